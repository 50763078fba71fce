/**
 * The `obsctl init` wizard: each answer is checked as it is typed (with the inventory's own field
 * validators), the answers are checked together by the same lint `config validate` runs, and when that
 * final check fails only the questions at fault are asked again, with the previous answers as defaults.
 * It asks through the prompt port (src/lib/prompt.ts), never a prompt library.
 */
import {existsSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {Prompter} from '../prompt.js'
import type {Finding as LintFinding} from './lint.js'
import {expandHome} from './files.js'
import {cpuError, memoryError} from './units.js'
import {dnsLabelError, dnsSubdomainError, gitRemoteError, hostError, hostKey, httpUrlError} from './validators.js'
import type {InitAnswers, InitCluster} from './write.js'

/** A quantity answer: fine, or its shape as the wizard words it, or (too large) units.ts's message with the bound. */
function quantityAnswer(problem: string | undefined, shape: string): true | string {
  if (problem === undefined) return true
  return problem.startsWith('expected ') ? shape : problem
}

/** One question of the wizard: a global field, or one field of the i-th cluster. */
export type Question =
  | {kind: 'global'; field: 'domain' | 'sshUser' | 'identityFile' | 's3Endpoint' | 'gitRemote' | 'profile'}
  | {kind: 'cluster'; index: number; field: 'name' | 'hosts' | 'metrics' | 'cpu' | 'memory'}

const ok = (problem: string | undefined): true | string => problem ?? true

/** The SSH key to offer: the first of the usual key files that exists, else none (the ssh-agent). */
export function defaultIdentityFile(): string {
  for (const f of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    if (existsSync(path.join(os.homedir(), '.ssh', f))) return `~/.ssh/${f}`
  }
  return ''
}

export function identityFileError(v: string): string | undefined {
  if (!v.trim()) return undefined
  const file = expandHome(v.trim())
  if (!existsSync(file)) return `${file} does not exist (leave it empty to use the ssh-agent)`
  if (!statSync(file).isFile()) return `${file} is not a file`
  return undefined
}

/** Node addresses, comma-separated: each an IP or host name, none twice here nor in another cluster. */
export function hostsError(v: string, taken: ReadonlyMap<string, string>): string | undefined {
  const hosts = splitHosts(v)
  if (hosts.length === 0) return 'at least one address (the first is the control plane)'
  const seen = new Set<string>()
  for (const h of hosts) {
    const problem = hostError(h)
    if (problem) return problem
    const key = hostKey(h)
    if (seen.has(key)) return `${h} is listed twice`
    seen.add(key)
    const other = taken.get(key)
    if (other) return `${h} is already a node of ${other}`
  }
  return undefined
}

export const splitHosts = (v: string): string[] =>
  v
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)

/** Ask one question, with `current` (the previous answer) as the default when re-asking. */
async function ask(p: Prompter, a: InitAnswers, q: Question): Promise<void> {
  if (q.kind === 'global') {
    switch (q.field) {
      case 'domain':
        a.domain = await p.input({
          message: 'Base domain (services are <service>.k8s-cluster-<id>.<domain>)',
          default: a.domain || 'example.lab',
          validate: (v) => ok(dnsSubdomainError(v.trim())),
        })
        a.domain = a.domain.trim()
        return
      case 'sshUser':
        a.sshUser = (
          await p.input({
            message: 'SSH user on the nodes',
            default: a.sshUser || 'ubuntu',
            validate: (v) => (/^[a-z_][a-z0-9_.-]*\$?$/i.test(v.trim()) ? true : 'a user name: letters, digits, _ . -'),
          })
        ).trim()
        return
      case 'identityFile': {
        const v = await p.input({
          message: 'SSH private key (empty: use ssh-agent)',
          default: a.identityFile ?? defaultIdentityFile(),
          validate: (x) => ok(identityFileError(x)),
        })
        a.identityFile = v.trim() || undefined
        return
      }
      case 's3Endpoint':
        a.s3Endpoint = (
          await p.input({
            message: 'S3 (MinIO) endpoint URL',
            default: a.s3Endpoint || `https://s3.${a.domain}`,
            validate: (v) => ok(httpUrlError(v.trim(), 'S3 credentials are read from $OBSCTL_S3_ACCESS_KEY and $OBSCTL_S3_SECRET_KEY')),
          })
        ).trim()
        return
      case 'gitRemote':
        a.gitRemote = (
          await p.input({
            message: 'GitOps repository remote (Argo CD pulls it)',
            default: a.gitRemote || undefined,
            validate: (v) => (v.trim() ? ok(gitRemoteError(v.trim())) : 'required'),
          })
        ).trim()
        return
      case 'profile':
        a.profile = await p.select({
          message: 'Sizing profile',
          default: a.profile,
          choices: [
            {name: 'lab (4-core/16 GB machines)', value: 'lab' as const},
            {name: 'production (larger machines: bigger requests and heaps)', value: 'production' as const},
          ],
        })
        return
    }
  }
  const c = a.clusters[q.index]!
  const label = c.name || `Cluster ${q.index + 1}`
  switch (q.field) {
    case 'name': {
      const others = new Set(a.clusters.filter((_, i) => i !== q.index).map((x) => x.name))
      c.name = (
        await p.input({
          message: `Cluster ${q.index + 1} name (${c.role})`,
          default: c.name || `cluster-${c.id}`,
          validate: (v) => (others.has(v.trim()) ? `${v.trim()} is already the name of another cluster` : ok(dnsLabelError(v.trim()))),
        })
      ).trim()
      return
    }
    case 'hosts': {
      const taken = new Map<string, string>()
      a.clusters.forEach((x, i) => {
        if (i !== q.index) for (const h of x.hosts) taken.set(hostKey(h), x.name)
      })
      const v = await p.input({
        message: `${label}: node addresses, comma-separated (first = control plane)`,
        default: c.hosts.length ? c.hosts.join(', ') : undefined,
        validate: (x) => ok(hostsError(x, taken)),
      })
      c.hosts = splitHosts(v)
      return
    }
    case 'metrics':
      c.metrics = await p.select({
        message: `${label}: metrics`,
        default: c.metrics,
        choices: [
          {name: 'remote-scrape (central scrapes through the API server)', value: 'remote-scrape' as const},
          {name: 'agent (Prometheus Agent remote-writes)', value: 'agent' as const},
        ],
      })
      return
    case 'cpu':
      c.cpu = (
        await p.input({
          message: `${label}: CPU per node`,
          default: c.cpu || '4',
          validate: (v) => quantityAnswer(cpuError(v.trim()), 'a CPU quantity: 4, 8 or 3500m'),
        })
      ).trim()
      return
    case 'memory':
      c.memory = (
        await p.input({
          message: `${label}: memory per node`,
          default: c.memory || '16Gi',
          validate: (v) => quantityAnswer(memoryError(v.trim()), 'a memory quantity: 16Gi, 32Gi or 16000Mi'),
        })
      ).trim()
      return
  }
}

const clusterQuestions = (c: InitCluster, index: number): Question[] =>
  (['name', 'hosts', ...(c.role === 'edge' ? (['metrics'] as const) : []), 'cpu', 'memory'] as const).map((field) => ({kind: 'cluster', index, field}))

/** Every question, in order, filling a fresh set of answers. */
export async function askAll(p: Prompter): Promise<InitAnswers> {
  const a: InitAnswers = {domain: '', sshUser: '', s3Endpoint: '', gitRemote: '', profile: 'lab', clusters: []}
  for (const field of ['domain', 'sshUser', 'identityFile', 's3Endpoint', 'gitRemote', 'profile'] as const) await ask(p, a, {kind: 'global', field})
  const count = (await p.number({message: 'How many clusters (one central + edges)?', default: 4, min: 1, max: 999})) ?? 4
  for (let i = 0; i < count; i++) {
    const id = String(i + 1).padStart(2, '0')
    const role = i === 0 ? 'central' : 'edge'
    a.clusters.push({name: '', id, role, hosts: [], cpu: '', memory: ''})
    for (const q of clusterQuestions(a.clusters[i]!, i)) await ask(p, a, q)
  }
  return a
}

/** Ask again exactly these questions, keeping every other answer. */
export async function reask(p: Prompter, a: InitAnswers, questions: Question[]): Promise<void> {
  for (const q of questions) await ask(p, a, q)
}

const GLOBAL_PATHS: [RegExp, Question][] = [
  [/^domain\b/, {kind: 'global', field: 'domain'}],
  [/^ssh\.user\b/, {kind: 'global', field: 'sshUser'}],
  [/^ssh\.identityFile\b/, {kind: 'global', field: 'identityFile'}],
  [/^s3\b/, {kind: 'global', field: 's3Endpoint'}],
  [/^git\b/, {kind: 'global', field: 'gitRemote'}],
  [/^profile\b/, {kind: 'global', field: 'profile'}],
]

/**
 * The questions whose answers a lint finding is about (by its inventory path), in the wizard's order;
 * findings about something no question sets (the environment, say) map to none.
 */
export function questionsAtFault(findings: Pick<LintFinding, 'path'>[], a: InitAnswers): Question[] {
  const out: Question[] = []
  const add = (q: Question) => {
    if (!out.some((x) => JSON.stringify(x) === JSON.stringify(q))) out.push(q)
  }
  for (const {path: p} of findings) {
    const g = GLOBAL_PATHS.find(([re]) => re.test(p))
    if (g) {
      add(g[1])
      continue
    }
    const m = /^clusters\[(\d+)\](?:\.(\w+)(?:\[\d+\]\.(\w+))?)?/.exec(p)
    if (!m) continue
    const index = Number(m[1])
    const c = a.clusters[index]
    if (!c) continue
    const [, , field, sub] = m
    if (field === 'name') add({kind: 'cluster', index, field: 'name'})
    else if (field === 'metrics' && c.role === 'edge') add({kind: 'cluster', index, field: 'metrics'})
    else if (field === 'nodes' && (sub === 'cpu' || sub === 'memory')) add({kind: 'cluster', index, field: sub})
    else if (field === 'nodes' && sub === 'host') add({kind: 'cluster', index, field: 'hosts'})
    else if (field === 'nodes' || field === 'apiServer' || field === undefined) {
      // the cluster's nodes as a whole (their number, their capacity): the node questions
      for (const f of ['hosts', 'cpu', 'memory'] as const) add({kind: 'cluster', index, field: f})
    }
  }
  const order = (q: Question) =>
    q.kind === 'global'
      ? ['domain', 'sshUser', 'identityFile', 's3Endpoint', 'gitRemote', 'profile'].indexOf(q.field)
      : 100 + q.index * 10 + ['name', 'hosts', 'metrics', 'cpu', 'memory'].indexOf(q.field)
  return out.sort((x, y) => order(x) - order(y))
}

/** What will be written, as the lines shown before the confirmation. */
export function summaryLines(a: InitAnswers, file: string): string[] {
  const lines = [
    `obsctl init will write ${file}:`,
    `  domain       ${a.domain}`,
    `  profile      ${a.profile}`,
    `  ssh          ${a.sshUser}@… with ${a.identityFile ?? 'the ssh-agent'}`,
    `  s3           ${a.s3Endpoint}`,
    `  git          ${a.gitRemote}`,
  ]
  const w = Math.max(...a.clusters.map((c) => c.name.length))
  for (const c of a.clusters) {
    const role = c.role === 'edge' ? `edge (${c.metrics ?? 'remote-scrape'})` : 'central'
    lines.push(`  ${c.name.padEnd(w)}  ${role.padEnd(20)} ${c.hosts.join(', ')}  (${c.cpu} CPU, ${c.memory} per node)`)
  }
  return lines
}
