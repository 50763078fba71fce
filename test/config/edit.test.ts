import {chmodSync, chownSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  EXAMPLE_ANSWERS,
  addClusterToInventory,
  loadInventory,
  removeClusterFromInventory,
  removeInventoryValue,
  renderInventoryYaml,
  setInventoryValue,
} from '../../src/lib/config/index.js'
import {ObsctlError} from '../../src/lib/errors.js'

function example(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-edit-'))
  const file = path.join(dir, 'obsctl.yaml')
  writeFileSync(file, renderInventoryYaml(EXAMPLE_ANSWERS))
  return file
}

describe('inventory edits keep comments and order', () => {
  it('config set changes exactly the value bytes', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    const r = await setInventoryValue(loadInventory(file), 'retention.prometheus', '8h')
    expect(r.previous).toBe('6h')
    const after = readFileSync(file, 'utf8')
    expect(after).toBe(before.replace('prometheus: 6h ', 'prometheus: 8h '))
    expect(loadInventory(file).platform.retention.prometheus).toBe('8h')
  })

  it('resolves cluster names in paths and sets replica overrides', async () => {
    const file = example()
    await setInventoryValue(loadInventory(file), 'clusters.cluster-03.metrics', 'agent')
    await setInventoryValue(loadInventory(file), 'replicas.prometheus', '3', {allowOvercommit: true})
    const p = loadInventory(file).platform
    expect(p.clusters[2]!.metrics).toBe('agent')
    expect(p.replicas.prometheus).toBe(3)
  })

  it('refuses an edit that breaks lint and leaves the file untouched', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    await expect(setInventoryValue(loadInventory(file), 'retention.thanos.raw', '2h')).rejects.toMatchObject({exitCode: 2})
    await expect(setInventoryValue(loadInventory(file), 'clusters.cluster-09.metrics', 'agent')).rejects.toBeInstanceOf(ObsctlError)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('adds and removes a cluster, the rest byte-identical', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    await addClusterToInventory(loadInventory(file), {name: 'cluster-05', role: 'edge', metrics: 'agent', hosts: ['127.0.1.5'], cpu: '4', memory: '16Gi'})
    const added = readFileSync(file, 'utf8')
    expect(added.startsWith(before)).toBe(true)
    const c5 = loadInventory(file).platform.clusters.find((c) => c.name === 'cluster-05')!
    expect(c5).toMatchObject({id: '05', role: 'edge', metrics: 'agent', apiServer: 'https://127.0.1.5:6443'})
    await expect(
      addClusterToInventory(loadInventory(file), {name: 'cluster-05', role: 'edge', hosts: ['127.0.1.6'], cpu: '4', memory: '16Gi'}),
    ).rejects.toMatchObject({exitCode: 2})
    await removeClusterFromInventory(loadInventory(file), 'cluster-05')
    expect(readFileSync(file, 'utf8')).toBe(before)
    await expect(removeClusterFromInventory(loadInventory(file), 'cluster-01')).rejects.toMatchObject({exitCode: 2})
  })
})

describe('an edited inventory keeps its mode and owner', () => {
  const mode = (f: string) => statSync(f).mode & 0o7777

  it('config set, cluster add/remove and node remove leave a 0600 (or 0640) inventory as it was', async () => {
    const file = example()
    for (const m of [0o600, 0o640]) {
      chmodSync(file, m)
      await setInventoryValue(loadInventory(file), 'retention.prometheus', m === 0o600 ? '12h' : '8h')
      expect(mode(file).toString(8)).toBe(m.toString(8))
    }
    chmodSync(file, 0o600)
    await addClusterToInventory(loadInventory(file), {name: 'cluster-05', role: 'edge', hosts: ['127.0.1.5', '127.0.1.6'], cpu: '4', memory: '16Gi'})
    expect(mode(file)).toBe(0o600)
    await removeInventoryValue(loadInventory(file), 'clusters.cluster-05.nodes[1]')
    expect(mode(file)).toBe(0o600)
    await removeClusterFromInventory(loadInventory(file), 'cluster-05')
    expect(mode(file)).toBe(0o600)
  })

  it.skipIf(process.getuid?.() !== 0)('as root, an edit keeps the file owner (nobody) and mode', async () => {
    const file = example()
    chownSync(file, 65534, 65534)
    chmodSync(file, 0o600)
    await setInventoryValue(loadInventory(file), 'retention.prometheus', '12h')
    const st = statSync(file)
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o600])
  })
})

describe('config set through a value, or of a value YAML cannot read: exit 2 naming it, nothing written', () => {
  it.each([
    ['retention.prometheus.x', '1', /cannot set retention\.prometheus\.x: retention\.prometheus at FILE:46:15 is a value \("6h"\)/],
    ['s3.buckets.metrics.name.x', 'y', /cannot set s3\.buckets\.metrics\.name\.x: s3\.buckets\.metrics\.name at FILE:22:21 is a value \("thanos-metrics"\)/],
    ['ssh.user', '*a', /ssh\.user: the value \*a is YAML for an alias .*no anchor/],
  ])('config set %s %s', async (p, v, says) => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    let err: unknown
    try {
      await setInventoryValue(loadInventory(file), p, v)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ObsctlError)
    expect((err as ObsctlError).exitCode).toBe(2)
    expect((err as Error).message).toMatch(new RegExp(says.source.replace('FILE', file.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&'))))
    expect(readFileSync(file, 'utf8')).toBe(before)
  })
})
