// Start-up of the CLI vs bare `node -e 0` (DESIGN.md §6, issue 18), medians of paired runs: every round
// runs every case once (round-robin, after one warm-up round), so a change in machine load affects all
// alike. The figure judged against the budget is CPU time (user+sys of the whole process, via bash's `time`)
// when measurable — the steadier figure on a busy machine — else wall time; both are reported.
//
//   --version ≤ 1.3x; --help ≤ 2x; commands that talk to neither Kubernetes nor S3 ≤ 2.5x (config
//   validate, plan, render, state show, init, node preflight's start-up);
//   commands that talk to Kubernetes or S3 ≤ 4x to their first request: the inventory and kubeconfig
//   point every API server, node, S3 and service endpoint at 127.0.0.x port 9, where nothing listens,
//   so the first connection is refused at once and the command fails; its whole-process CPU is the figure.
//   (Only loopback is ever contacted: services are reached --via-api-server, never by DNS.)
//
// The code cache lives in a folder of the bench (XDG_CACHE_HOME), filled by the warm-up round; the
// `(no code cache)` cases show what a first run costs, `(inventory just edited)` what the first command after
// an edit costs (its parse is not in the derived-result cache yet). BENCH_RUNS=N changes the number of rounds (15),
// BENCH_ONLY=REGEX keeps only the cases whose names match.
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {median, runIfMain, timeOnce, timeRoundRobin} from './_lib.js'

const BIN = path.join(import.meta.dirname, '..', 'bin', 'run.js')

/** The example inventory with every address on loopback port 9 (nothing listens there: refused at once). */
async function loopbackLab(dir) {
  const env = {CI: '1', NO_COLOR: '1', OBSCTL_CONFIG: path.join(dir, 'obsctl.yaml'), XDG_CACHE_HOME: path.join(dir, 'cache')}
  timeOnce(process.execPath, [BIN, 'init', '--example'], {env})
  const inv = readFileSync(env.OBSCTL_CONFIG, 'utf8')
    .replace(/https:\/\/192\.168\.101\.19(\d):6443/g, 'https://127.0.0.1$1:9')
    .replace(/^(\s+)- host: 192\.168\.101\.19(\d)$/gm, '$1- host: 127.0.0.1$2\n$1  port: 9')
    .replace(/endpoint: https:\/\/s3\.minio\.miribit\.lab/, 'endpoint: https://127.0.0.1:9')
    .replace(/# identityFile: .*/, `identityFile: ${path.join(dir, 'id_ed25519')}`)
  if ((inv.match(/127\.0\.0\.1\d/g) ?? []).length !== 8 || !inv.includes('https://127.0.0.1:9'))
    throw new Error('bench/startup.js: the example inventory changed shape; update loopbackLab')
  writeFileSync(env.OBSCTL_CONFIG, inv)
  const key = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'obsctl-bench', '-f', path.join(dir, 'id_ed25519')])
  if (key.status !== 0) throw new Error(`ssh-keygen: ${key.stderr}`)
  // the inventory's API servers: 192.168.101.194/196/197/198 became 127.0.0.14/16/17/18
  const clusters = [1, 2, 3, 4]
  const server = {1: 4, 2: 6, 3: 7, 4: 8}
  // each cluster's CA in the kubeconfig (certificate-authority-data), as kubeadm writes admin.conf: obsctl refuses a
  // kubeconfig without one. Made by obsctl's own CA code (src/lib/kube/pki.ts), in a folder of its own. (Node 20
  // builds its root certificate store at the first TLS context either way: ~22-30 ms of CPU, docs/performance.md.)
  const {ensurePlatformCa} = await import(new URL('../dist/lib/kube/pki.js', import.meta.url).href)
  const caData = Buffer.from((await ensurePlatformCa(path.join(dir, 'cluster-ca'), 'kubernetes')).certPem).toString('base64')
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...clusters.map((i) => `- name: cluster-0${i}\n  cluster:\n    certificate-authority-data: ${caData}\n    server: https://127.0.0.1${server[i]}:9`),
    'users:',
    ...clusters.map((i) => `- name: cluster-0${i}-admin\n  user:\n    token: obsctl-bench-not-a-credential`),
    'contexts:',
    ...clusters.map((i) => `- name: cluster-0${i}-context\n  context:\n    cluster: cluster-0${i}\n    user: cluster-0${i}-admin`),
    'current-context: cluster-01-context',
    '',
  ].join('\n')
  writeFileSync(path.join(dir, 'kubeconfig'), kubeconfig, {mode: 0o600})
  return {
    ...env,
    KUBECONFIG: path.join(dir, 'kubeconfig'),
    OBSCTL_S3_ACCESS_KEY: 'obsctl-bench',
    OBSCTL_S3_SECRET_KEY: 'obsctl-bench-not-a-credential',
    OBSCTL_OPENSEARCH_USER: 'obsctl-bench',
    OBSCTL_OPENSEARCH_PASSWORD: 'obsctl-bench-not-a-credential',
    OBSCTL_ARGOCD_PASSWORD: 'obsctl-bench-not-a-credential',
  }
}

export default async function bench() {
  const runs = Number(process.env.BENCH_RUNS ?? 15)
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-bench-'))
  try {
    const env = await loopbackLab(dir)
    // the runs without a code cache use an inventory of their own: `cluster register`'s journal, written with no cache
    // folder to record it in, would otherwise make every later `plan` and `state show` check the journal again (zod,
    // ~15 ms), which a journal an obsctl run wrote with its cache on never needs (test/cli/code-cache.test.ts)
    mkdirSync(path.join(dir, 'no-cache'))
    const noCache = {...env, OBSCTL_CODE_CACHE: '0', OBSCTL_CONFIG: path.join(dir, 'no-cache', 'obsctl.yaml')}
    copyFileSync(env.OBSCTL_CONFIG, noCache.OBSCTL_CONFIG)
    const edited = path.join(dir, 'edited.yaml')
    copyFileSync(env.OBSCTL_CONFIG, edited)
    // a platform whose GitOps repository is rendered and committed, as after a bootstrap: `plan` describes the render
    // task from the files and Git (src/lib/gitops/render-state.ts), which the inventory above, never rendered, skips
    const rendered = {...env, OBSCTL_CONFIG: path.join(dir, 'rendered', 'obsctl.yaml')}
    mkdirSync(path.join(dir, 'rendered'))
    copyFileSync(env.OBSCTL_CONFIG, rendered.OBSCTL_CONFIG)
    timeOnce(process.execPath, [BIN, 'render'], {env: rendered, cwd: path.join(dir, 'rendered')})
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '-A'],
      ['-c', 'user.name=bench', '-c', 'user.email=bench@example.lab', 'commit', '-qm', 'rendered'],
    ]) {
      const g = spawnSync('git', args, {cwd: path.join(dir, 'rendered', 'gitops'), encoding: 'utf8'})
      if (g.status !== 0) throw new Error(`bench/startup.js: git ${args.join(' ')}: ${g.stderr}`)
    }
    const failing = [0, 1]
    // [name, argv, budget, {env?, okCodes?}]
    const cases = [
      ['--version', ['--version'], 1.3],
      ['--help', ['--help'], 2],
      // the root help drawn by the CLI, as on the first run (src/lib/root-help-cache.ts keeps it for the next)
      ['--help (no code cache)', ['--help'], undefined, {env: noCache}],
      ['config validate', ['config', 'validate'], 2.5],
      ['plan', ['plan'], 2.5],
      ['plan (no code cache)', ['plan'], undefined, {env: noCache}],
      // an inventory edited since the last command: its parse is not in the derived-result cache
      ['plan (inventory just edited)', ['plan'], undefined, {edit: true}],
      ['plan (repository rendered and committed)', ['plan'], 2.5, {env: rendered}],
      ['render --dry-run', ['render', '--dry-run', '--out', path.join(dir, 'repo')], 2.5],
      ['state show', ['state', 'show'], 2.5],
      ['init --example --force', ['init', '--example', '--force', '-c', path.join(dir, 'init.yaml')], 2.5],
      ['node preflight (refused)', ['node', 'preflight'], 2.5, {okCodes: failing}],
      ['status (refused)', ['status', '--via-api-server'], 4, {okCodes: failing}],
      ['validate (refused)', ['validate', '--via-api-server'], 4, {okCodes: failing}],
      ['s3 setup (refused)', ['s3', 'setup', '--timeout', '1'], 4, {okCodes: failing}],
      ['kubeconfig merge (refused)', ['kubeconfig', 'merge', '--kubeconfig', path.join(dir, 'merged.kubeconfig')], 4, {okCodes: failing}],
      ['cluster register (refused)', ['cluster', 'register'], 4, {okCodes: failing}],
      ['cluster register (no code cache)', ['cluster', 'register'], undefined, {env: noCache, okCodes: failing}],
    ].filter(([name]) => !only || only.test(name))
    const node = process.execPath
    const medians = timeRoundRobin(
      [
        {name: 'node -e 0', cmd: node, args: ['-e', '0'], opts: {env}},
        ...cases.map(([name, args, , o = {}]) =>
          o.edit
            ? // the domain changed (a value every template and node script reads: neither the parse nor what is
              // derived from it is cached; sed costs ~1 ms), then the command in its place, on a copy of the
              // inventory (the parse cache keeps one entry per file: the others' stay warm)
              {
                name,
                cmd: '/bin/sh',
                args: ['-c', 'sed -i "s/^domain: [^ ]*/domain: edit-$$.lab/" "$OBSCTL_CONFIG"; exec "$@"', 'sh', node, BIN, ...args],
                opts: {env: {...env, OBSCTL_CONFIG: edited}, cwd: dir},
              }
            : {name, cmd: node, args: [BIN, ...args], opts: {env: o.env ?? env, okCodes: o.okCodes, cwd: dir}},
        ),
      ],
      runs,
    )
    // the budget of the commands that talk to Kubernetes or S3 (and SSH) runs to their first network request:
    // their own CPU time when they open their first connection, against node -e 0's own CPU time at exit, both
    // read inside the process (bench/_first-request.js), round-robin as above
    const networked = cases.filter(([name, , budget]) => budget && /\(refused\)$/.test(name))
    const firstCpu = new Map()
    if (networked.length) {
      const preload = new URL('_first-request.js', import.meta.url).href
      const out = path.join(dir, 'first-request.jsonl')
      const lastLine = () => JSON.parse(readFileSync(out, 'utf8').trim().split('\n').at(-1))
      const probe = [['node -e 0', ['-e', '0'], [0]], ...networked.map(([name, args, , o = {}]) => [name, [BIN, ...args], o.okCodes ?? [0]])]
      const xs = new Map(probe.map(([name]) => [name, []]))
      for (let round = -1; round < runs; round++) {
        for (const [name, args, okCodes] of probe) {
          timeOnce(node, ['--import', preload, ...args], {env: {...env, OBSCTL_BENCH_FIRST_REQUEST: out}, okCodes, cwd: dir})
          const r = lastLine()
          const ms = name === 'node -e 0' ? r.exit : r.first
          if (ms === undefined) throw new Error(`bench/startup.js: ${name} opened no connection`)
          if (round >= 0) xs.get(name).push(ms)
        }
      }
      for (const [name, v] of xs) firstCpu.set(name, median(v))
    }
    const base = medians.get('node -e 0')
    const cpuBase = medians.cpu.get('node -e 0')
    const rows = [{name: 'node -e 0', value: base, unit: 'ms', ratio: 1}]
    if (cpuBase) rows.push({name: 'cpu: node -e 0', value: cpuBase, unit: 'ms', ratio: 1})
    for (const [name, , budget] of cases) {
      const ms = medians.get(name)
      const cpu = medians.cpu.get(name)
      const judged = cpu && cpuBase ? cpu / cpuBase : ms / base
      rows.push({name: `obsctl ${name}`, value: ms, unit: 'ms', ratio: ms / base})
      if (cpu && cpuBase) rows.push({name: `cpu: obsctl ${name}`, value: cpu, unit: 'ms', ratio: cpu / cpuBase})
      const first = firstCpu.get(name)
      if (first !== undefined) {
        // judged here: the budget's own measure
        const ratio = first / firstCpu.get('node -e 0')
        rows.push({name: `cpu to the first request: obsctl ${name}`, value: first, unit: 'ms', ratio, budget: `${budget}x`, ok: ratio <= budget})
      } else if (budget) Object.assign(rows.at(-1), {budget: `${budget}x`, ok: judged <= budget})
    }
    if (firstCpu.size) rows.splice(2, 0, {name: 'cpu in process: node -e 0', value: firstCpu.get('node -e 0'), unit: 'ms', ratio: 1})
    // a machine-wide NODE_EXTRA_CA_CERTS makes every Node process, node -e 0 too, parse that bundle at start
    // (~80 ms of CPU for Debian's): the floor and so every ratio differ with it; the title says which
    const ca = process.env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}` : 'no NODE_EXTRA_CA_CERTS'
    return {title: `start-up (median of ${runs} paired runs, ${process.version}, ${ca}; budgets judged on ${cpuBase ? 'CPU' : 'wall'} time)`, rows}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

await runIfMain(import.meta.url, bench)
