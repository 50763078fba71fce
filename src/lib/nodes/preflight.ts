/**
 * Node preflight in the one check model (src/lib/checks/): every check has an id, a title and a
 * pass/warn/fail status with detail and a hint, plus the node it is about. Facts are read in one SSH
 * exec per node, plus one sudo probe (which also lists what interrupted obsctl runs left on the node:
 * ./leftovers.ts); nothing on the node is changed. The nodes are probed through the
 * check runner (one definition per node, judging many things from one read).
 *
 * Over 300 lines on purpose: every check judges the same one-exec probe of a node (its script and its
 * parser live here); split per check, the probe's format would be shared across files that must agree on it.
 */
import {capacity} from '../config/sizing.js'
import {cpuMillis, formatMemory, memoryBytes} from '../config/units.js'
import {apiServerPort, firstControlPlane, nodeName} from '../config/model.js'
import type {Cluster, ClusterNode, Platform} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import {runChecks, type CheckDef, type CheckStatus, type Outcome} from '../checks/index.js'
import type {SshConnection} from '../ssh/connection.js'
import type {SshPool} from '../ssh/pool.js'
import {WORK_DIR, RESTORE_DIR, listLeftoversScript, leftoversOf, type Leftover} from './leftovers.js'
import {shWord} from '../shell-quote.js'

export type {CheckStatus}

/** What a preflight outcome carries besides the model's fields. */
export interface NodeCheckMeta {
  cluster: string
  node: string
  host: string
}

export type CheckResult = Outcome<NodeCheckMeta>

const metaOf = (c: Cluster, n: ClusterNode): NodeCheckMeta & {target: string} => ({
  cluster: c.name,
  node: nodeName(n),
  host: n.host,
  target: `${c.name}/${nodeName(n)}`,
})

/** Facts a check measures; each one either has a value or says why it could not be read. */
export type FactKey = 'arch' | 'cpus' | 'mem' | 'disk' | 'swap' | 'listen' | 'hostname' | 'time'

export interface NodeFacts {
  arch: string
  osId: string
  osLike: string
  osName: string
  cpus: number
  memBytes: number
  diskFreeBytes: number
  swapDevices: number
  listening: string[]
  kubeletConf: boolean
  hostname: string
  /** remote clock minus local clock, ms (midpoint of the exec) */
  skewMs: number
  /** facts that could not be read, with why (their values above are then meaningless) */
  unmeasured?: Partial<Record<FactKey, string>>
}

/**
 * One line per fact: `key=value` when its command succeeded, `key_error=<what> exited N` when it did not
 * (pipelines under pipefail, so a failing first command is not hidden by the last one).
 */
function fact(key: FactKey, cmd: string, what: string): string {
  return `if v=$(${cmd} 2>/dev/null); then printf '%s=%s\\n' ${key} "$v"; else printf '%s_error=%s exited %s\\n' ${key} '${what}' "$?"; fi`
}

const FACTS = [
  '(set -o pipefail) 2>/dev/null && set -o pipefail',
  fact('arch', 'uname -m', 'uname -m'),
  '( . /etc/os-release 2>/dev/null; echo "os_id=${ID:-}"; echo "os_like=${ID_LIKE:-}"; echo "os_name=${PRETTY_NAME:-}" )',
  fact('cpus', '{ nproc || getconf _NPROCESSORS_ONLN; }', 'nproc (and getconf _NPROCESSORS_ONLN)'),
  fact('mem', "awk '/^MemTotal:/{print $2}' /proc/meminfo", 'reading MemTotal from /proc/meminfo'),
  'd=/var/lib; [ -d "$d" ] || d=/',
  fact('disk', `df -Pk "$d" | awk 'NR==2{print $4}'`, 'df -Pk /var/lib'),
  fact('swap', "awk 'NR>1{n++} END{print n+0}' /proc/swaps", 'reading /proc/swaps'),
  fact('listen', "ss -Hltn | awk '{print $4}' | tr '\\n' ' '", 'ss -Hltn'),
  'if [ -f /etc/kubernetes/kubelet.conf ]; then echo kubelet_conf=1; else echo kubelet_conf=0; fi',
  fact('hostname', 'hostname', 'hostname'),
  fact('time', 'date +%s%3N', 'date +%s%3N'),
].join('\n')

const NUMERIC: Partial<Record<FactKey, string>> = {
  cpus: 'a CPU count',
  mem: 'a size in KiB',
  disk: 'a size in KiB',
  swap: 'a count',
  time: 'milliseconds since the epoch',
}

export async function readFacts(conn: SshConnection): Promise<NodeFacts> {
  const t0 = Date.now()
  const r = await conn.exec(FACTS)
  const t1 = Date.now()
  const kv = new Map<string, string>()
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim())
  }
  const unmeasured: Partial<Record<FactKey, string>> = {}
  const stderr = r.stderr.trim().split('\n').filter(Boolean).slice(-1)[0]
  for (const key of ['arch', 'cpus', 'mem', 'disk', 'swap', 'listen', 'hostname', 'time'] as FactKey[]) {
    const err = kv.get(`${key}_error`)
    const v = kv.get(key)
    if (err !== undefined) unmeasured[key] = err
    else if (v === undefined) unmeasured[key] = `the facts command printed nothing for it (exit ${r.code}${stderr ? `: ${stderr}` : ''})`
    else if (NUMERIC[key] && !/^\d+$/.test(v)) unmeasured[key] = `expected ${NUMERIC[key]}, got ${JSON.stringify(v.slice(0, 40))}`
    else if ((key === 'hostname' || key === 'arch') && v === '') unmeasured[key] = `${key} printed nothing`
  }
  const num = (k: FactKey) => (unmeasured[k] ? Number.NaN : Number(kv.get(k)))
  return {
    arch: kv.get('arch') ?? '',
    osId: kv.get('os_id') ?? '',
    osLike: kv.get('os_like') ?? '',
    osName: kv.get('os_name') ?? '',
    cpus: num('cpus'),
    memBytes: num('mem') * 1024,
    diskFreeBytes: num('disk') * 1024,
    swapDevices: num('swap'),
    listening: (kv.get('listen') ?? '').split(/\s+/).filter(Boolean),
    kubeletConf: kv.get('kubelet_conf') === '1',
    hostname: unmeasured.hostname ? '' : (kv.get('hostname') ?? ''),
    skewMs: num('time') - (t0 + t1) / 2,
    ...(Object.keys(unmeasured).length ? {unmeasured} : {}),
  }
}

/** Why a fact could not be measured, or undefined when it was (a non-finite number is never a measurement). */
function notMeasured(f: NodeFacts, key: FactKey, value?: number): string | undefined {
  return f.unmeasured?.[key] ?? (value !== undefined && !Number.isFinite(value) ? 'no value was read' : undefined)
}

const UNMEASURED_HINT =
  'the node must run the standard tools (uname, nproc, awk, df, ss, hostname, date) for obsctl user; run them there by hand to see why they fail'

const SUPPORTED_OS = ['ubuntu', 'debian', 'rhel', 'centos', 'rocky', 'almalinux', 'fedora']
const GiB = 1024 ** 3

function portOpen(listening: string[], port: number): boolean {
  return listening.some((a) => a.endsWith(`:${port}`))
}

/** The sudo probe: root works (and then what interrupted obsctl runs left on the node, listed as root), or why not. */
export type SudoProbe = {ok: true; detail: string; leftovers: Leftover[]} | {ok: false; detail: string}

/**
 * The `leftovers` check: what interrupted obsctl runs left on the node (./leftovers.ts; an etcd snapshot in plaintext
 * among them), and the command that removes it: on a cluster's first control plane, its next backup create or restore
 * removes everything; elsewhere node install of that node (--host) removes the login user's files, and what is under /var/lib/obsctl (a
 * node that was the first control plane once) is removed by hand.
 */
function leftoversCheck(c: Cluster, n: ClusterNode, sudo: SudoProbe): {status: CheckStatus; detail: string; hint?: string} {
  if (!sudo.ok) return {status: 'fail', detail: 'could not look: it needs root, and sudo failed (the sudo check)', hint: SUDO_HINT}
  const found = sudo.leftovers
  if (found.length === 0) return {status: 'pass', detail: 'none'}
  const say = (l: Leftover) => `${l.path}${l.run ? ` (run ${l.run}${l.since ? `, since ${l.since}` : ''})` : l.since ? ` (since ${l.since})` : ''}`
  const detail = `${found.length} left by interrupted runs: ${found.map(say).join(', ')}`
  if (firstControlPlane(c) === n)
    return {status: 'warn', detail, hint: `the next obsctl backup create --cluster ${c.name} (or backup restore --cluster ${c.name}) removes them`}
  const byHand = found.filter((l) => l.path.startsWith(`${WORK_DIR}/`) || l.path.startsWith(`${RESTORE_DIR}/`))
  const hints = [
    ...(byHand.length < found.length
      ? [
          `obsctl node install ${c.name} --host ${n.host} --restart removes the ones in the login user's home (it reruns the install on this node alone; each step checks before it acts)`,
        ]
      : []),
    ...(byHand.length > 0 ? [`remove the others by hand (no obsctl run there does): sudo rm -rf ${byHand.map((l) => shWord(l.path)).join(' ')}`] : []),
  ]
  return {status: 'warn', detail, hint: hints.join('; ')}
}

const SUDO_HINT = 'ssh.sudo: nopasswd needs a NOPASSWD rule; ssh.sudo: password prompts (or OBSCTL_SUDO_PASSWORD)'

/** All per-node checks from the facts (pure; tested without SSH). */
export function evaluateNode(p: Platform, c: Cluster, n: ClusterNode, f: NodeFacts, sudo: SudoProbe): CheckResult[] {
  const base = metaOf(c, n)
  const out: CheckResult[] = []
  const add = (id: string, title: string, status: CheckStatus, detail: string, hint?: string) =>
    out.push({...base, id, title, status, detail, ...(hint ? {hint} : {})})
  const isCp = n.roles.includes('control-plane')

  /** a check that could not measure is a failure that says why, never a pass */
  const unmeasurable = (id: string, title: string, key: FactKey, value?: number): boolean => {
    const why = notMeasured(f, key, value)
    if (why) add(id, title, 'fail', `could not measure: ${why}`, UNMEASURED_HINT)
    return Boolean(why)
  }

  const osOk = [f.osId, ...f.osLike.split(/\s+/)].some((x) => SUPPORTED_OS.includes(x))
  const archOk = ['x86_64', 'aarch64', 'amd64', 'arm64'].includes(f.arch)
  const archWhy = notMeasured(f, 'arch')
  add(
    'os',
    'OS and architecture',
    osOk && archOk ? 'pass' : 'fail',
    `${f.osName || f.osId || 'unknown OS (/etc/os-release not read)'} ${archWhy ? `(architecture could not be measured: ${archWhy})` : f.arch}`,
    osOk && archOk ? undefined : archWhy ? UNMEASURED_HINT : 'supported: Ubuntu, Debian, RHEL family on x86_64 or arm64',
  )

  const declaredCpu = cpuMillis(n.cpu) / 1000
  const minCpu = isCp ? 2 : 1
  if (!unmeasurable('cpu', 'CPU', 'cpus', f.cpus)) {
    const cpuStatus: CheckStatus = f.cpus < minCpu ? 'fail' : f.cpus < declaredCpu ? 'fail' : 'pass'
    add(
      'cpu',
      'CPU',
      cpuStatus,
      `${f.cpus} CPUs (declared ${declaredCpu}; ${isCp ? 'control plane' : 'worker'} needs ≥ ${minCpu})`,
      cpuStatus === 'fail' ? 'declare what the machine has (nodes[].cpu) and rerun config validate, or give the machine more CPUs' : undefined,
    )
  }

  const declaredMem = memoryBytes(n.memory)
  const minMem = isCp ? 1700 * 1024 ** 2 : 1024 ** 3
  // MemTotal excludes kernel-reserved memory: allow 10% below the declared size
  if (!unmeasurable('memory', 'Memory', 'mem', f.memBytes)) {
    const memStatus: CheckStatus = f.memBytes < minMem || f.memBytes < declaredMem * 0.9 ? 'fail' : 'pass'
    add(
      'memory',
      'Memory',
      memStatus,
      `${formatMemory(f.memBytes)} (declared ${formatMemory(declaredMem)}; ${isCp ? 'control plane' : 'worker'} needs ≥ ${formatMemory(minMem)})`,
      memStatus === 'fail' ? 'declare what the machine has (nodes[].memory) and rerun config validate, or add memory' : undefined,
    )
  }

  const [failDisk, warnDisk] = p.profile === 'production' ? [20 * GiB, 50 * GiB] : [10 * GiB, 20 * GiB]
  if (!unmeasurable('disk', 'Free disk (/var/lib)', 'disk', f.diskFreeBytes)) {
    const diskStatus: CheckStatus = f.diskFreeBytes < failDisk ? 'fail' : f.diskFreeBytes < warnDisk ? 'warn' : 'pass'
    add(
      'disk',
      'Free disk (/var/lib)',
      diskStatus,
      `${formatMemory(f.diskFreeBytes)} free (${p.profile}: ≥ ${formatMemory(failDisk)}, ${formatMemory(warnDisk)} recommended)`,
      diskStatus === 'pass' ? undefined : 'free space under /var/lib (containerd images, Longhorn volumes)',
    )
  }

  if (!unmeasurable('swap', 'Swap', 'swap', f.swapDevices)) {
    add(
      'swap',
      'Swap',
      f.swapDevices > 0 ? 'warn' : 'pass',
      f.swapDevices > 0 ? `${f.swapDevices} swap device(s) on` : 'off',
      f.swapDevices > 0 ? 'node install turns swap off and comments it out of /etc/fstab' : undefined,
    )
  }

  for (const port of isCp ? [apiServerPort(c), 10250] : [10250]) {
    if (unmeasurable(`port-${port}`, `Port ${port}`, 'listen')) continue
    const open = portOpen(f.listening, port)
    const status: CheckStatus = !open ? 'pass' : f.kubeletConf ? 'pass' : 'fail'
    add(
      `port-${port}`,
      `Port ${port}`,
      status,
      !open ? 'free' : f.kubeletConf ? 'in use by Kubernetes (already ours)' : 'in use by another program',
      status === 'fail' ? `find it with: ss -ltnp 'sport = :${port}'` : undefined,
    )
  }

  const skew = Math.abs(f.skewMs)
  if (!unmeasurable('clock', 'Clock skew vs this machine', 'time', f.skewMs)) {
    const skewStatus: CheckStatus = skew > 30_000 ? 'fail' : skew > 2000 ? 'warn' : 'pass'
    add(
      'clock',
      'Clock skew vs this machine',
      skewStatus,
      `${(f.skewMs / 1000).toFixed(1)} s`,
      skewStatus === 'pass' ? undefined : 'synchronise clocks (chrony / systemd-timesyncd): certificates and tokens depend on them',
    )
  }

  add('sudo', 'sudo', sudo.ok ? 'pass' : 'fail', sudo.detail, sudo.ok ? undefined : SUDO_HINT)
  const left = leftoversCheck(c, n, sudo)
  add('leftovers', 'Leftovers of obsctl runs', left.status, left.detail, left.hint)
  return out
}

/** Cross-node checks: unique hostnames, cluster capacity with the real CPU/memory. */
export function evaluateFleet(p: Platform, clusters: Cluster[], facts: Map<ClusterNode, NodeFacts>): CheckResult[] {
  const out: CheckResult[] = []
  const byHost = new Map<string, ClusterNode[]>()
  for (const [n, f] of facts) if (f.hostname) byHost.set(f.hostname, [...(byHost.get(f.hostname) ?? []), n])
  for (const c of clusters) {
    for (const n of c.nodes) {
      const f = facts.get(n)
      if (!f) continue
      const why = notMeasured(f, 'hostname')
      if (why) {
        out.push({...metaOf(c, n), id: 'hostname', title: 'Unique hostname', status: 'fail', detail: `could not measure: ${why}`, hint: UNMEASURED_HINT})
        continue
      }
      const same = (byHost.get(f.hostname) ?? []).filter((x) => x !== n)
      // kubeadm registers nodes under nodes[].name (default: the host), so a duplicate machine hostname
      // only breaks things when the inventory leaves the names to the machines
      const status: CheckStatus = same.length === 0 ? 'pass' : n.name ? 'warn' : 'fail'
      out.push({
        ...metaOf(c, n),
        id: 'hostname',
        title: 'Unique hostname',
        status,
        detail: same.length === 0 ? f.hostname : `${f.hostname} also on ${same.map((x) => x.host).join(', ')}`,
        ...(same.length === 0 ? {} : {hint: 'give every machine its own hostname (hostnamectl set-hostname) and set nodes[].name'}),
      })
    }
    const known = c.nodes.map((n) => facts.get(n)).filter((f): f is NodeFacts => Boolean(f))
    if (known.length !== c.nodes.length) continue
    const blind = c.nodes.filter((n) => notMeasured(facts.get(n)!, 'cpus', facts.get(n)!.cpus) || notMeasured(facts.get(n)!, 'mem', facts.get(n)!.memBytes))
    if (blind.length) {
      const first = c.nodes[0]!
      out.push({
        ...metaOf(c, first),
        id: 'capacity',
        title: `Cluster capacity (${p.profile} profile)`,
        status: 'fail',
        detail: `could not measure: CPU or memory unknown on ${blind.map((n) => n.host).join(', ')}`,
        hint: UNMEASURED_HINT,
      })
      continue
    }
    const cap = capacity(p, c)
    const cpu = known.reduce((a, f) => a + f.cpus * 1000, 0)
    const mem = known.reduce((a, f) => a + f.memBytes, 0)
    const ok = cap.requestedCpuMillis <= cpu && cap.requestedMemoryBytes <= mem
    const first = c.nodes[0]!
    out.push({
      ...metaOf(c, first),
      id: 'capacity',
      title: `Cluster capacity (${p.profile} profile)`,
      status: ok ? 'pass' : 'fail',
      detail: `requests ${cap.requestedCpuMillis / 1000} CPU / ${formatMemory(cap.requestedMemoryBytes)} vs ${cpu / 1000} CPU / ${formatMemory(mem)} on the machines`,
      ...(ok ? {} : {hint: 'add nodes or resources, or use the lab profile'}),
    })
  }
  return out
}

/** Root works (`id -u` is 0), and, in the same root shell, what interrupted obsctl runs left (read-only: no node lock). */
export async function probeSudo(conn: SshConnection): Promise<SudoProbe> {
  try {
    const r = await conn.sudo(`id -u || exit 1\n${listLeftoversScript(conn.opts.user)}`)
    return r.code === 0 && r.stdout.split('\n')[0]!.trim() === '0'
      ? {ok: true, detail: conn.opts.user === 'root' ? 'root login' : `sudo (${conn.opts.sudo?.mode ?? 'nopasswd'})`, leftovers: leftoversOf(r.stdout, 'found')}
      : {ok: false, detail: r.stderr.trim() || `exit ${r.code}`}
  } catch (e) {
    return {ok: false, detail: errorMessage(e)}
  }
}

/** Connect and check one node; a connection failure is one failed `ssh` check. */
export async function checkNode(pool: SshPool, p: Platform, c: Cluster, n: ClusterNode): Promise<{checks: CheckResult[]; facts?: NodeFacts}> {
  let conn: SshConnection
  try {
    conn = await pool.get(n)
  } catch (e) {
    const hints = (e as {hints?: string[]}).hints
    return {checks: [{...metaOf(c, n), id: 'ssh', title: 'SSH', status: 'fail', detail: errorMessage(e), ...(hints?.length ? {hint: hints.join('; ')} : {})}]}
  }
  const [facts, sudo] = await Promise.all([readFacts(conn), probeSudo(conn)])
  return {checks: [{...metaOf(c, n), id: 'ssh', title: 'SSH', status: 'pass', detail: conn.label}, ...evaluateNode(p, c, n, facts, sudo)], facts}
}

export interface PreflightReport {
  ok: boolean
  failures: number
  warnings: number
  knownHosts: string
  notices: string[]
  checks: CheckResult[]
}

/** Bound of one node's probe (connect with retries, read facts, sudo): generous, a loaded machine is slow. */
const NODE_PROBE_TIMEOUT_MS = 300_000

export async function preflight(pool: SshPool, p: Platform, clusters: Cluster[]): Promise<PreflightReport> {
  const facts = new Map<ClusterNode, NodeFacts>()
  const probes: CheckDef<SshPool, NodeCheckMeta>[] = clusters.flatMap((c) =>
    c.nodes.map((n) => {
      const {target, ...meta} = metaOf(c, n)
      return {
        id: 'ssh',
        title: 'SSH',
        target,
        meta,
        async run(pool: SshPool) {
          const r = await checkNode(pool, p, c, n)
          if (r.facts) facts.set(n, r.facts)
          return r.checks
        },
      }
    }),
  )
  const perNode = await runChecks(probes, pool, {
    timeoutMs: NODE_PROBE_TIMEOUT_MS,
    timeoutHint: 'the node accepted no SSH session or did not answer the facts command; check it by hand with ssh',
  })
  const checks = [...perNode, ...evaluateFleet(p, clusters, facts)]
  const failures = checks.filter((c) => c.status === 'fail').length
  return {
    ok: failures === 0,
    failures,
    warnings: checks.filter((c) => c.status === 'warn').length,
    knownHosts: pool.knownHostsFile,
    notices: [...pool.notices],
    checks,
  }
}
