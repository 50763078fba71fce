/**
 * The init wizard's logic through the prompt port, with a scripted prompter standing in for the terminal
 * (the real terminal is driven in init.test.ts): each answer is validated as typed, a failed final check
 * re-asks only the questions at fault and keeps every other answer.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {lintInventory} from '../../src/lib/config/lint.js'
import {parseInventory} from '../../src/lib/config/load.js'
import {askAll, hostsError, identityFileError, questionsAtFault, reask, summaryLines} from '../../src/lib/config/wizard.js'
import {renderInventoryYaml} from '../../src/lib/config/write.js'
import type {Prompter} from '../../src/lib/prompt.js'
import {tmpDir} from '../cli/helpers.js'

/** A prompter that answers from a script keyed by message prefix; each typed answer must pass the question's validate. */
function scripted(script: [string, string | number | boolean][]) {
  const asked: string[] = []
  const refused: {message: string; value: string; problem: string}[] = []
  const next = (message: string) => {
    const i = script.findIndex(([prefix]) => message.startsWith(prefix))
    if (i < 0) throw new Error(`unexpected question: ${message}`)
    asked.push(message)
    return script.splice(i, 1)[0]![1]
  }
  const p: Prompter = {
    async input(q) {
      // like the terminal: a refused answer is shown its problem and the question stays open
      for (;;) {
        const raw = next(q.message)
        const value = raw === '' && q.default !== undefined ? q.default : String(raw)
        const v = q.validate?.(value) ?? true
        if (v === true) return value
        refused.push({message: q.message, value, problem: v})
      }
    },
    password: async () => {
      throw new Error('no passwords in the wizard')
    },
    async number(q) {
      return Number(next(q.message))
    },
    async select<T>(q: {message: string; choices: {value: T}[]}) {
      return q.choices[Number(next(q.message))]!.value
    },
    async confirm(q) {
      return Boolean(next(q.message))
    },
  }
  return {p, asked, refused, left: script}
}

const base: [string, string | number][] = [
  ['Base domain', 'miribit.lab'],
  ['SSH user', 'bsh'],
  ['SSH private key', '/nonexistent/key'],
  ['SSH private key', ''],
  ['S3', 'https://admin:pw@s3.miribit.lab'],
  ['S3', 'https://s3.miribit.lab'],
  ['GitOps', 'https://git.miribit.lab/p/gitops.git'],
  ['Sizing', 0],
  ['How many', 2],
  ['Cluster 1 name', 'Cluster 01!'],
  ['Cluster 1 name', 'cluster-01'],
  ['cluster-01: node addresses', '300.1.2.3'],
  ['cluster-01: node addresses', '127.0.1.10'],
  ['cluster-01: CPU', 'lots'],
  ['cluster-01: CPU', '4'],
  ['cluster-01: memory', '16Gi'],
  ['Cluster 2 name', 'cluster-01'],
  ['Cluster 2 name', 'edge-a'],
  ['edge-a: node addresses', '127.0.1.11, 127.0.1.10'],
  ['edge-a: node addresses', '127.0.1.11, 127.0.1.12'],
  ['edge-a: metrics', 1],
  ['edge-a: CPU', '4'],
  ['edge-a: memory', '16Gi'],
]

describe('init wizard', () => {
  it('refuses each bad answer as it is typed, with the reason, and keeps asking that question', async () => {
    const s = scripted([...base])
    const a = await askAll(s.p)
    expect(s.left).toEqual([])
    expect(s.refused.map((r) => [r.value, r.problem])).toEqual([
      ['/nonexistent/key', expect.stringContaining('does not exist')],
      ['https://admin:pw@s3.miribit.lab', expect.stringContaining('carries a credential')],
      ['Cluster 01!', expect.stringContaining('not a DNS label')],
      ['300.1.2.3', expect.stringMatching(/300\.1\.2\.3/)],
      ['lots', expect.stringContaining('CPU quantity')],
      ['cluster-01', 'cluster-01 is already the name of another cluster'],
      ['127.0.1.11, 127.0.1.10', '127.0.1.10 is already a node of cluster-01'],
    ])
    expect(a.identityFile).toBeUndefined()
    expect(a.clusters.map((c) => [c.name, c.role, c.metrics ?? null, c.hosts])).toEqual([
      ['cluster-01', 'central', null, ['127.0.1.10']],
      ['edge-a', 'edge', 'agent', ['127.0.1.11', '127.0.1.12']],
    ])
    expect(lintInventory(parseInventory(renderInventoryYaml(a), 'obsctl.yaml')).errors).toBe(0)
  })

  it('a failed final check re-asks only the questions at fault, the previous answers offered as defaults', async () => {
    const script = base.map(([k, v]): [string, string | number] => (k === 'cluster-01: CPU' && v === '4' ? [k, '1'] : [k, v]))
    const s = scripted(script)
    const a = await askAll(s.p)
    const report = lintInventory(parseInventory(renderInventoryYaml(a), 'obsctl.yaml'))
    const errors = report.findings.filter((f) => f.severity === 'error')
    expect(errors.map((f) => [f.id, f.path])).toEqual([['capacity', 'clusters[0].nodes']])
    const again = questionsAtFault(errors, a)
    expect(again).toEqual([
      {kind: 'cluster', index: 0, field: 'hosts'},
      {kind: 'cluster', index: 0, field: 'cpu'},
      {kind: 'cluster', index: 0, field: 'memory'},
    ])
    // Enter keeps the addresses and the memory; only the CPU changes
    const r = scripted([
      ['cluster-01: node addresses', ''],
      ['cluster-01: CPU', '8'],
      ['cluster-01: memory', ''],
    ])
    await reask(r.p, a, again)
    expect(r.asked).toHaveLength(3)
    expect(a.clusters[0]).toMatchObject({name: 'cluster-01', hosts: ['127.0.1.10'], cpu: '8', memory: '16Gi'})
    expect(a.clusters[1]).toMatchObject({name: 'edge-a', hosts: ['127.0.1.11', '127.0.1.12'], metrics: 'agent'})
    expect(lintInventory(parseInventory(renderInventoryYaml(a), 'obsctl.yaml')).errors).toBe(0)
  })

  it('maps inventory paths to questions; findings about the environment map to none', () => {
    const a = {
      domain: 'x.lab',
      sshUser: 'u',
      s3Endpoint: 'https://s3.x.lab',
      gitRemote: 'g',
      profile: 'lab' as const,
      clusters: [{name: 'c1', id: '01', role: 'central' as const, hosts: ['127.0.0.2'], cpu: '4', memory: '16Gi'}],
    }
    expect(
      questionsAtFault(
        [{path: 'git.remote'}, {path: 'domain'}, {path: 'clusters[0].nodes[0].host'}, {path: '$OBSCTL_GRAFANA_PASSWORD'}, {path: 'clusters[7].name'}],
        a,
      ),
    ).toEqual([
      {kind: 'global', field: 'domain'},
      {kind: 'global', field: 'gitRemote'},
      {kind: 'cluster', index: 0, field: 'hosts'},
    ])
  })

  it('checks key files and addresses the way the inventory does', () => {
    const dir = tmpDir()
    const key = path.join(dir, 'id_ed25519')
    writeFileSync(key, 'not really a key')
    mkdirSync(path.join(dir, 'sub'))
    expect(identityFileError(key)).toBeUndefined()
    expect(identityFileError('')).toBeUndefined()
    expect(identityFileError(path.join(dir, 'sub'))).toContain('is not a file')
    expect(hostsError('', new Map())).toContain('at least one')
    expect(hostsError('10.0.0.1, 10.0.0.1', new Map())).toBe('10.0.0.1 is listed twice')
    expect(hostsError('fd00::1', new Map([['fd00:0:0:0:0:0:0:1', 'c9']]))).toBe('fd00::1 is already a node of c9')
    expect(hostsError('node-a.lab, 010.0.0.1', new Map())).toBeDefined()
  })

  it('the summary names every cluster, its role and nodes', () => {
    const lines = summaryLines(
      {
        domain: 'x.lab',
        sshUser: 'u',
        s3Endpoint: 'https://s3.x.lab',
        gitRemote: 'git@x:p.git',
        profile: 'lab',
        clusters: [
          {name: 'c1', id: '01', role: 'central', hosts: ['127.0.0.2'], cpu: '4', memory: '16Gi'},
          {name: 'edge-b', id: '02', role: 'edge', metrics: 'agent', hosts: ['127.0.0.3', '127.0.0.4'], cpu: '2', memory: '8Gi'},
        ],
      },
      'obsctl.yaml',
    )
    expect(lines[0]).toBe('obsctl init will write obsctl.yaml:')
    expect(lines.join('\n')).toMatch(/edge-b\s+edge \(agent\)\s+127\.0\.0\.3, 127\.0\.0\.4 {2}\(2 CPU, 8Gi per node\)/)
    expect(lines.join('\n')).toContain('with the ssh-agent')
  })
})
