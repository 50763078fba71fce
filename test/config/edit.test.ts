import {chmodSync, chownSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import * as yaml from 'yaml'
import {
  EXAMPLE_ANSWERS,
  addClusterToInventory,
  loadInventory,
  parseInventory,
  removeClusterFromInventory,
  removeInventoryValue,
  renderInventoryYaml,
  setInventoryText,
  setInventoryValue,
} from '../../src/lib/config/index.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {sameSettings} from '../../src/lib/fleet/add.js'
import {addCluster} from '../../src/lib/flows/cluster-add-run.js'
import {addNode} from '../../src/lib/flows/node-run.js'

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

describe('cluster add names its nodes (--node-name, in --host order)', () => {
  it('an IPv6 host without a name is refused naming the flag that fixes it; with one, the node has that name; a rerun compares it', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    const n = {name: 'cluster-07', role: 'edge' as const, hosts: ['fd00::7', '127.0.1.8'], cpu: '4', memory: '16Gi'}
    const e = await addClusterToInventory(loadInventory(file), n).then(
      () => undefined,
      (error: unknown) => error as ObsctlError,
    )
    expect(e?.exitCode).toBe(2)
    expect(e?.message).toContain('--host fd00::7 (name that node with --node-name, in --host order)')
    expect(readFileSync(file, 'utf8')).toBe(before)
    // an upper-case name is a host, not a node name; a host that is neither is refused as a host, without the hint
    const refused = async (host: string) =>
      (await addClusterToInventory(loadInventory(file), {...n, hosts: [host]}).then(
        () => '',
        (error: unknown) => (error as Error).message,
      )) as string
    expect(await refused('Node-7.lab')).toContain('--host Node-7.lab (name that node with --node-name, in --host order)')
    const bad = await refused('bad_host!')
    expect(bad).toMatch(/^--host bad_host! clusters\[4\]\.nodes\[0\]\.host: /m)
    expect(bad).not.toContain('--node-name')
    expect(readFileSync(file, 'utf8')).toBe(before)

    await addClusterToInventory(loadInventory(file), {...n, names: ['cluster-07-cp']})
    const c7 = loadInventory(file).platform.clusters.find((c) => c.name === 'cluster-07')!
    expect(c7.nodes.map((x) => [x.host, x.name])).toEqual([
      ['fd00::7', 'cluster-07-cp'],
      ['127.0.1.8', undefined],
    ])
    expect(c7.apiServer).toBe('https://[fd00::7]:6443')
    expect(sameSettings(c7, {...n, names: ['cluster-07-cp']})).toEqual([])
    expect(sameSettings(c7, {...n, names: ['cluster-07-a']})).toEqual(['fd00::7 name cluster-07-cp ≠ cluster-07-a'])
    // more names than hosts: bad flags, before anything is read or written
    const after = readFileSync(file, 'utf8')
    await expect(addCluster(loadInventory(file), {cluster: {...n, name: 'cluster-08', names: ['a', 'b', 'c']}, dryRun: true})).rejects.toMatchObject({
      code: 'BAD_FLAGS',
      exitCode: 2,
      message: '--node-name given 3 times for 2 --host: each names the --host at its position',
    })
    expect(readFileSync(file, 'utf8')).toBe(after)
  })

  it("node add: the same refusal names --name (one mechanism: the edit says which flag answers lint's node-name)", async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    const e = await addNode(loadInventory(file), {cluster: 'cluster-02', host: 'fd00::9', role: 'worker', dryRun: true}).then(
      () => undefined,
      (error: unknown) => error as ObsctlError,
    )
    expect(e?.exitCode).toBe(2)
    expect(e?.message).toContain('--host "fd00::9" (name the node with --name) clusters[1].nodes[')
    expect(readFileSync(file, 'utf8')).toBe(before)
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

describe('config set of a field not yet in the file changes only the bytes it adds', () => {
  const SUDO = '  sudo: nopasswd               # or: password (prompted once, sent on stdin, never logged)\n'
  const crlf = (t: string) => `\uFEFF${t.replaceAll('\n', '\r\n')}`

  it('a new key: its line after the last field of its mapping; comments and alignment elsewhere untouched', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    expect(before).toContain(SUDO)
    await setInventoryValue(loadInventory(file), 'ssh.port', '2222')
    expect(readFileSync(file, 'utf8')).toBe(before.replace(SUDO, `${SUDO}  port: 2222\n`))
    await setInventoryValue(loadInventory(file), 'clusters.cluster-01.nodes[0].port', '2200')
    await setInventoryValue(loadInventory(file), 'replicas.prometheus', '2', {allowOvercommit: true})
    const after = readFileSync(file, 'utf8')
    expect(after.endsWith('\nreplicas:\n  prometheus: 2\n')).toBe(true)
    expect(after).toContain('        memory: 16Gi\n        port: 2200\n  - name: cluster-02\n')
    expect(after.replace('        port: 2200\n', '').replace('replicas:\n  prometheus: 2\n', '')).toBe(before.replace(SUDO, `${SUDO}  port: 2222\n`))
    const p = loadInventory(file).platform
    expect([p.ssh.port, p.clusters[0]!.nodes[0]!.port, p.replicas.prometheus]).toEqual([2222, 2200, 2])
  })

  it('a new key of a mapping whose list ends with comment lines goes after them (the mapping ends inside the next line)', () => {
    const text = 'c:\n  - name: a\n    nodes:\n      - host: x\n        # inside x\n\n      # after x\n  - name: b\n'
    expect(setInventoryText(text, 'c[0].k', 3).after).toBe(text.replace('  - name: b', '    k: 3\n  - name: b'))
  })

  it('a new key of a flow mapping goes inside its braces', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    await setInventoryValue(loadInventory(file), 's3.buckets.metrics.expireAfter', '400d')
    expect(readFileSync(file, 'utf8')).toBe(before.replace('metrics: {name: thanos-metrics}', 'metrics: {name: thanos-metrics, expireAfter: 400d}'))
  })

  it('a new list item (node add) is appended as lines, indented as its siblings', async () => {
    const file = example()
    const before = readFileSync(file, 'utf8')
    const node = {host: '127.0.1.9', roles: ['worker'], cpu: '4', memory: '16Gi'}
    await setInventoryValue(loadInventory(file), 'clusters.cluster-02.nodes[1]', JSON.stringify(node))
    const anchor = '      - host: 192.168.101.196\n        roles: [control-plane, worker]\n        cpu: "4"\n        memory: 16Gi\n'
    expect(readFileSync(file, 'utf8')).toBe(
      before.replace(anchor, `${anchor}      - host: 127.0.1.9\n        roles: [worker]\n        cpu: "4"\n        memory: 16Gi\n`),
    )
  })

  it('a CRLF file with a byte-order mark stays CRLF with its BOM: new keys, changed values, removed entries', async () => {
    const file = example()
    const lf = readFileSync(file, 'utf8')
    writeFileSync(file, crlf(lf))
    await setInventoryValue(loadInventory(file), 'ssh.port', '2222')
    expect(readFileSync(file, 'utf8')).toBe(crlf(lf.replace(SUDO, `${SUDO}  port: 2222\n`)))
    await setInventoryValue(loadInventory(file), 'ssh.port', '2200')
    expect(readFileSync(file, 'utf8')).toBe(crlf(lf.replace(SUDO, `${SUDO}  port: 2200\n`)))
    // written by the yaml Document API (a whole list replaced, an entry removed): line endings and BOM kept
    await setInventoryValue(
      loadInventory(file),
      'clusters.cluster-01.nodes',
      JSON.stringify([{host: '127.0.1.8', roles: ['control-plane', 'worker'], cpu: '4', memory: '16Gi'}]),
    )
    await removeInventoryValue(loadInventory(file), 'ssh.port')
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith('\uFEFFapiVersion: ') || text.startsWith('\uFEFF# obsctl inventory')).toBe(true)
    expect(text.match(/(?<!\r)\n/g) ?? []).toEqual([])
    expect(loadInventory(file).platform.clusters[0]!.nodes[0]!.host).toBe('127.0.1.8')
  })
})

describe('an edit refused beside an error the file has already names each, and which is the file’s', () => {
  it('retention.prometheus 4h with two clusters of id "02": the edit’s finding, then the file’s, each with file:line', async () => {
    const file = example()
    const text = readFileSync(file, 'utf8').replace('id: "03"', 'id: "02"')
    writeFileSync(file, text)
    const idLine = text.split('\n').lastIndexOf('    id: "02"') + 1
    const e = await setInventoryValue(loadInventory(file), 'retention.prometheus', '4h').then(
      () => undefined,
      (error: unknown) => error as ObsctlError,
    )
    expect(e?.exitCode).toBe(2)
    expect(e?.message).toMatch(
      new RegExp(
        `^config set retention\\.prometheus 4h would make the inventory invalid; nothing was written:\n${file}:46:15 retention\\.prometheus: Prometheus local retention 4h is under 6h.*\nAlso blocking it, already in the file \\(not retention\\.prometheus, the field the edit sets\\):\n${file}:${idLine}:9 clusters\\[2\\]\\.id: duplicate cluster id "02"`,
      ),
    )
    expect(e?.hints.join('\n')).toContain(`fix the errors already in ${file} by editing the file`)
    expect(readFileSync(file, 'utf8')).toBe(text)
  })
})

describe('what an edit writes is indented as the file is', () => {
  /** The example inventory (with `alerting:` to be filled), as a person who indents by 4 writes it. */
  function fourSpaces(): {file: string; text: string} {
    const file = example()
    const text = yaml
      .parseDocument(`${readFileSync(file, 'utf8')}alerting:   # to be filled\n`)
      .toString({indent: 4, lineWidth: 0, flowCollectionPadding: false})
    expect(text).toContain('\nssh:\n    user: bsh\n')
    writeFileSync(file, text)
    return {file, text}
  }

  it('a 4-space file stays 4-space: a mapping filled in under a null, a new nested mapping, a new cluster, a list rewritten', async () => {
    const {file, text} = fourSpaces()
    await setInventoryValue(loadInventory(file), 'alerting.receivers', '[{name: ops, webhook: {urlEnv: OBSCTL_ALERT_WEBHOOK_URL}}]')
    await setInventoryValue(loadInventory(file), 'ssh.proxy', '{http: "http://proxy.lab:3128"}')
    const filled = text
      .replace(
        'alerting: # to be filled\n',
        'alerting: # to be filled\n    receivers:\n        - name: ops\n          webhook:\n              urlEnv: OBSCTL_ALERT_WEBHOOK_URL\n',
      )
      .replace(/^( {4}sudo: .*\n)/m, '$1    proxy:\n        http: http://proxy.lab:3128\n')
    expect(readFileSync(file, 'utf8')).toBe(filled)
    // a whole list replaced: the yaml Document API writes the file, at its own indentation
    await setInventoryValue(
      loadInventory(file),
      'clusters.cluster-01.nodes',
      JSON.stringify([{host: '127.0.1.8', roles: ['control-plane', 'worker'], cpu: '4', memory: '16Gi'}]),
    )
    const rewritten = readFileSync(file, 'utf8')
    expect(rewritten).toContain('\nssh:\n    user: bsh\n')
    expect(rewritten).toContain('\n    - name: cluster-01\n      id: "01"\n')
    expect(rewritten).toContain('\n      nodes:\n          - host: 127.0.1.8\n            roles:\n                - control-plane\n')
    expect(rewritten).toContain('\n    receivers:\n        - name: ops\n          webhook:\n              urlEnv: OBSCTL_ALERT_WEBHOOK_URL\n')
    await addClusterToInventory(
      loadInventory(file),
      {name: 'cluster-05', role: 'edge', hosts: ['127.0.1.9'], cpu: '4', memory: '16Gi'},
      {allowOvercommit: true},
    )
    expect(readFileSync(file, 'utf8')).toContain('    - name: cluster-05\n      id: "05"\n')
    expect(readFileSync(file, 'utf8')).toContain('      nodes:\n          - host: 127.0.1.9\n            roles: [control-plane, worker]\n')
    expect(loadInventory(file).platform.alerting.receivers.map((r) => r.name)).toEqual(['ops'])
  })

  it('a file whose lists start at their key’s column keeps them there when the Document API writes it', async () => {
    const file = example()
    const text = yaml.parseDocument(readFileSync(file, 'utf8')).toString({indentSeq: false, lineWidth: 0, flowCollectionPadding: false})
    expect(text).toContain('\nclusters:\n- name: cluster-01\n')
    writeFileSync(file, text)
    const nodes = [{host: '127.0.1.8', roles: ['control-plane', 'worker'], cpu: '4', memory: '16Gi'}]
    await setInventoryValue(loadInventory(file), 'clusters.cluster-01.nodes', JSON.stringify(nodes))
    const rewritten = readFileSync(file, 'utf8')
    expect(rewritten).toContain('\nclusters:\n- name: cluster-01\n')
    expect(rewritten).toContain('\n  nodes:\n  - host: 127.0.1.8\n')
  })
})

describe('a key with nothing under it (YAML null) where a mapping goes', () => {
  it('is read as that mapping, empty (its defaults); a null where a value goes is still refused naming it', () => {
    const text = renderInventoryYaml(EXAMPLE_ANSWERS)
    const defaults = parseInventory(text, '/x/obsctl.yaml').platform
    for (const empty of ['alerting:\n', 'alerting: ~   # to be filled\n', 'alerting: null\nreplicas:\n']) {
      const p = parseInventory(`${text}${empty}`, '/x/obsctl.yaml').platform
      expect([p.alerting, p.replicas]).toEqual([defaults.alerting, defaults.replicas])
    }
    const line = text.split('\n').findIndex((l) => l.startsWith('  user: bsh')) + 1
    expect(() => parseInventory(text.replace(/^ {2}user: bsh/m, '  user:'), '/x/obsctl.yaml')).toThrow(
      new RegExp(`/x/obsctl\\.yaml:${line}:8: ssh\\.user: Invalid input: expected string, received null`),
    )
  })
})

describe('config set under a key with nothing under it (YAML null) fills it in, changing only the bytes it adds', () => {
  const crlf = (t: string) => `\uFEFF${t.replaceAll('\n', '\r\n')}`

  it.each([
    ['LF', (t: string) => t],
    ['CRLF with a byte-order mark', crlf],
  ])('%s: `alerting:   # to be filled` gets its field on the next line, its comment and every other byte kept', async (_, style) => {
    const file = example()
    const lf = `${readFileSync(file, 'utf8')}alerting:   # to be filled\nreplicas: ~\n`
    writeFileSync(file, style(lf))
    await setInventoryValue(loadInventory(file), 'alerting.repeatInterval', '4h')
    await setInventoryValue(loadInventory(file), 'replicas.prometheus', '2', {allowOvercommit: true})
    const want = lf
      .replace('alerting:   # to be filled\n', 'alerting:   # to be filled\n  repeatInterval: 4h\n')
      .replace('replicas: ~\n', 'replicas:\n  prometheus: 2\n')
    expect(readFileSync(file, 'utf8')).toBe(style(want))
    const p = loadInventory(file).platform
    expect([p.alerting.repeatInterval, p.replicas.prometheus]).toEqual(['4h', 2])
  })

  it('the schema still judges the result (an unknown field under it: exit 2, nothing written); a value in the way is still refused', async () => {
    const file = example()
    writeFileSync(file, `${readFileSync(file, 'utf8')}alerting:\n`)
    await setInventoryValue(loadInventory(file), 'ssh.port', '2222')
    const before = readFileSync(file, 'utf8')
    await expect(setInventoryValue(loadInventory(file), 'alerting.repeatIntervall', '4h')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/would make the inventory invalid.*\n.*:\d+:\d+ alerting\.repeatIntervall: unknown field "repeatIntervall"/),
    })
    await expect(setInventoryValue(loadInventory(file), 'ssh.port.x', '1')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/cannot set ssh\.port\.x: ssh\.port at .* is a value \(2222\), not a mapping/),
    })
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('a null in a flow mapping becomes {key: value}; one on a line of its own is written by the Document API', () => {
    expect(setInventoryText('s: {x: ~, y: 1}  # c\n', 's.x.z', 1).after).toBe('s: {x: {z: 1}, y: 1}  # c\n')
    expect(setInventoryText('# c\nalerting:\n  ~\nb: 1\n', 'alerting.k', 'v').after).toBe('# c\nalerting:\n  k: v\nb: 1\n')
  })
})

describe('removing an entry (node remove) takes out its lines only', () => {
  const NODE = '      - host: 192.168.101.196\n        roles: [control-plane, worker]\n        cpu: "4"\n        memory: 16Gi\n'
  // cluster-02's nodes, with comments on each item, a flow-style item and blank lines between them
  const REMOVED_1 = "      # the worker in rack 3\n      - {host: '192.168.101.199', roles: [worker], cpu: '4', memory: 16Gi}   # flow item\n\n"
  const LAST = '      - host: 192.168.101.200\n        roles: [\'worker\']\n        cpu: "4"\n        memory: 16Gi\n        # about .200, inside its block\n'
  const NODES = `${NODE.replace('196\n', '196      # the control plane\n')}        # inside the first node's block\n\n${REMOVED_1}${LAST}      # after the last node\n`

  /** The example inventory formatted as a person might (each valid YAML the Document API would write otherwise). */
  function oddlyFormatted(): string {
    const file = example()
    const text = readFileSync(file, 'utf8')
      .replace('domain: miribit.lab ', "domain: 'miribit.lab'")
      .replace('  opensearch:\n    deleteAfter: 180d          #', '  opensearch: { deleteAfter: 180d }          #')
      .replace(
        'git:\n  remote: https://git.miribit.lab/platform/thanos-multi-cluster.git\n  branch: main\n  dir: gitops',
        'git:\n    remote: "https://git.miribit.lab/platform/thanos-multi-cluster.git"\n    branch:   main\n    dir: gitops',
      )
      .replace('\nclusters:\n', '\n\n\n# the clusters\nclusters:\n')
      .replace(NODE, NODES)
    writeFileSync(file, text)
    return file
  }

  it('an item in the middle: its lines, the comment directly above it and one of the blank lines around it; every other byte kept', async () => {
    const file = oddlyFormatted()
    const before = readFileSync(file, 'utf8')
    expect(before).toContain(NODES)
    const r = await removeInventoryValue(loadInventory(file), 'clusters.cluster-02.nodes[1]', {allowOvercommit: true})
    expect(r.changed).toBe(true)
    expect(readFileSync(file, 'utf8')).toBe(before.replace(REMOVED_1, ''))
    expect(loadInventory(file).platform.clusters[1]!.nodes.map((n) => n.host)).toEqual(['192.168.101.196', '192.168.101.200'])
  })

  it('the last item: its lines and the comments inside its block; a comment after it at the list’s column stays', async () => {
    const file = oddlyFormatted()
    const before = readFileSync(file, 'utf8')
    await removeInventoryValue(loadInventory(file), 'clusters.cluster-02.nodes[2]', {allowOvercommit: true})
    expect(readFileSync(file, 'utf8')).toBe(before.replace(LAST, ''))
    expect(readFileSync(file, 'utf8')).toContain('memory: 16Gi}   # flow item\n\n      # after the last node\n')
  })

  it('a comment above it after a blank line, or at another column, is not its own and stays; a key of a mapping goes the same way', async () => {
    const file = oddlyFormatted()
    const ITEM = '      - {host: 192.168.101.199, roles: [worker], cpu: "4", memory: 16Gi}\n        # deeper: inside this item\'s block\n'
    const text = readFileSync(file, 'utf8').replace(REMOVED_1, `      # about the list, not an item\n\n${ITEM}`)
    writeFileSync(file, text)
    // the last one first: the comment directly above it is deeper than its `-` (the item before's block): it stays
    await removeInventoryValue(loadInventory(file), 'clusters.cluster-02.nodes[2]', {allowOvercommit: true})
    expect(readFileSync(file, 'utf8')).toBe(text.replace(LAST, ''))
    // then that one: a blank line above it, so the comment over that stays; the comment inside its block goes
    await removeInventoryValue(loadInventory(file), 'clusters.cluster-02.nodes[1]', {allowOvercommit: true})
    expect(readFileSync(file, 'utf8')).toBe(text.replace(LAST, '').replace(ITEM, ''))
    // a key (upgrade kubernetes records, then drops, clusters.X.kubernetes): back to the same bytes
    const before = readFileSync(file, 'utf8')
    await setInventoryValue(loadInventory(file), 'clusters.cluster-02.kubernetes', '"1.34"')
    expect(readFileSync(file, 'utf8')).toContain('\n    kubernetes: "1.34"\n')
    await removeInventoryValue(loadInventory(file), 'clusters.cluster-02.kubernetes')
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('the only item of a list: its lines alone would leave `groupBy:` (null, not []), so the whole text is written', async () => {
    const file = example()
    writeFileSync(file, `${readFileSync(file, 'utf8')}alerting:\n  groupBy:\n    - alertname\n`)
    await removeInventoryValue(loadInventory(file), 'alerting.groupBy[0]')
    expect(readFileSync(file, 'utf8')).toMatch(/\nalerting:\n {2}groupBy: \[\]\n$/)
    expect(loadInventory(file).platform.alerting.groupBy).toEqual([])
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
