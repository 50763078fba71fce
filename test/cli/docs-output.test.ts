/**
 * The output the pages show is what obsctl prints. README, CONTRIBUTING and docs/*.md show runs as code blocks: a
 * `$ obsctl …` line, then what it printed (and often `[exit N]`); a newcomer copies them. docs-facts.test.ts checks
 * that the commands and flags exist; this runs the blocks that need no live platform and compares.
 *
 * Every block with a `$ ` line and output under it is listed here, by page and its first command line, in CHECKED
 * (run and compared) or SKIPPED (with why: it needs a live platform, a terminal, a machine in a given state). A
 * block in neither list, or an entry that names no block any more, fails the test, so the lists cannot go stale.
 * A block of command lines alone (no output shown) shows nothing that could drift and is in neither.
 *
 * How a checked block runs: in a folder ~/lab made as the page's prose describes it (BASES: the example inventory,
 * or that with a GitOps repository and a bare remote; then the entry's `files` and `setup` lines: an edit the prose
 * describes, a file it names, an earlier run; their output is not compared), each `$ ` line of the block in turn in
 * one bash, as a user pastes them (`obsctl` is the built CLI): stdout and stderr as they interleave (or as much of
 * stderr as the page says it shows), no terminal (or one of the page's width, through util-linux's `script`), CI=1,
 * NO_COLOR=1. Every block runs in ONE namespace (`unshare -rmn`, loopback up), a few at a time, each in a mount
 * namespace of its own where its folder is HOME (a bind mount at one path, so a base made once serves them all): no
 * packet leaves it — the example's 192.168.101.x nodes are never contacted — and names resolve from a hosts file of
 * the test's alone (the example's S3 name, as on the pages' workstation), never through DNS.
 *
 * How output compares, after what legitimately varies is made alike on both sides (the folder shown as `~`, commit
 * SHAs, times and run ids, durations with a decimal point):
 * - each line as shown; a line of the page that ends with `…` is the beginning of the printed one (cut for the page);
 * - a line `…` or `… (a note)` stands for any number of printed lines (elided for the page);
 * - `[exit N]` (or a `# exit N` comment on the command line) is the exit code; without one, a step whose output
 *   shows `Error:` must exit non-zero, and any other 0.
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {Tokens} from 'marked'
import {beforeAll, describe, expect, it} from 'vitest'
import {BIN, markdownPages, requireBuild, ROOT, runProcess, tmpDir, walkMarkdown} from './helpers.js'

/** One `$ ` line of a block and what the page shows under it. */
interface Step {
  command: string
  output: string[]
  exit?: number
}
interface Block {
  /** page and first command line: `docs/day-2.md: $ obsctl cluster remove cluster-04 --dry-run` */
  key: string
  line: number
  steps: Step[]
}

interface Check {
  block: string
  /** shell lines run first in ~/lab (what the prose says the folder holds); their output is not compared */
  setup?: string[]
  /**
   * what the page shows of stderr (it says so): all of it, as it interleaves with stdout (the default); none; or only
   * the error, from its `Error:` line, after stdout (progress lines left out)
   */
  stderr?: 'all' | 'none' | 'error'
  /** the page shows a terminal this many columns wide: each step runs on one (util-linux's `script`) */
  columns?: number
  /** files the prose says the folder holds, by their path under HOME (`lab/x.conf`, `.kube/config`) */
  files?: Record<string, string>
  /** the folder it starts from (BASES; default: example) */
  base?: keyof typeof BASES
  /** what varies with the machine (a version), made alike on both sides */
  vary?: [RegExp, string][]
}

/** kubeadm's /etc/kubernetes/admin.conf of a cluster whose API server is at `host`, its CA named `ca` */
function adminConf(host: string, ca: string): string {
  const b64 = (t: string) => Buffer.from(t).toString('base64')
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kubernetes',
    '  cluster:',
    `    server: https://${host}:6443`,
    `    certificate-authority-data: ${b64(`-----BEGIN CERTIFICATE-----\n${ca}\n-----END CERTIFICATE-----\n`)}`,
    'users:',
    '- name: kubernetes-admin',
    '  user:',
    `    client-certificate-data: ${b64(`${ca} client certificate`)}`,
    `    client-key-data: ${b64(`${ca} client key`)}`,
    'contexts:',
    '- name: kubernetes-admin@kubernetes',
    '  context: {cluster: kubernetes, user: kubernetes-admin}',
    'current-context: kubernetes-admin@kubernetes',
    '',
  ].join('\n')
}

/**
 * The folders blocks start from, each made once (from the one before it, in this order), as the pages describe them:
 * - example: `obsctl init --example` in ~/lab;
 * - gitops: day-2.md's, that with a bare Git repository as git.remote (~/lab/remote.git), rendered, committed and pushed;
 * - changed: that after day-2.md's two changes (a chart upgrade, then retention.prometheus 8h), which rollback undoes.
 */
const BASES = {
  example: ['obsctl init --example'],
  gitops: [
    'git init -q --bare -b main remote.git',
    'sed -i "s#remote: https://git.miribit.lab/.*#remote: $HOME/lab/remote.git#" obsctl.yaml',
    'obsctl render --commit --push --yes',
  ],
  changed: ['obsctl upgrade chart kube-prometheus-stack --version 79.0.0 --yes --no-sync', 'obsctl config set retention.prometheus 8h --yes --no-sync'],
}

/** A run of the buckets phase that failed: the S3 endpoint on loopback, where nothing listens (journal.md, output.md). */
const BUCKETS_REFUSED = [
  'sed -i "s#endpoint: https://s3.minio.miribit.lab#endpoint: http://127.0.0.1:9#" obsctl.yaml',
  '! OBSCTL_S3_ACCESS_KEY=docs OBSCTL_S3_SECRET_KEY=docs-secret obsctl bootstrap --phase buckets --yes',
]

const CHECKED: Check[] = [
  {block: 'docs/bootstrap.md: $ obsctl bootstrap --all --dry-run', stderr: 'none'},
  {block: 'docs/day-2.md: $ obsctl upgrade chart kube-prometheus-stack --version 79.0.0 --dry-run', base: 'gitops'},
  {block: 'docs/day-2.md: $ obsctl config set retention.prometheus 4h --yes', base: 'gitops'},
  {block: 'docs/day-2.md: $ obsctl config set s3.endpoint d1a9c0ffee42beef1234567890abcdef00112233 --dry-run', base: 'gitops'},
  {block: 'docs/day-2.md: $ obsctl cluster add cluster-05 --host 192.168.101.199 --metrics agent --dry-run', base: 'gitops'},
  {block: 'docs/day-2.md: $ obsctl cluster remove cluster-04 --dry-run', base: 'gitops'},
  {
    block: 'docs/day-2.md: $ obsctl rollback --dry-run',
    base: 'changed',
  },
  {
    block: 'docs/day-2.md: $ obsctl rollback --yes # after someone pushed a commit by hand',
    base: 'changed',
    // a commit of Ada's pushed from another clone
    setup: [
      'git clone -q remote.git ~/ada',
      '(cd ~/ada && echo notes > NOTES.md && git add NOTES.md && git -c user.name=Ada -c user.email=ada@example.test commit -qm "notes by hand" && git push -q)',
    ],
  },
  {block: 'docs/inventory.md: $ obsctl config explain ssh.hostKeyPolicy'},
  {
    block: "docs/inventory.md: $ obsctl config validate -c bad.yaml # the reference runbook's retention values",
    setup: [
      // the reference runbook's retention values; a file missing required fields; two typos in cluster-02
      String.raw`sed -e 's/^  prometheus: 6h /  prometheus: 2h /' -e 's/^    raw: 30d$/    raw: 2h\n    6h: 90d/' obsctl.yaml > bad.yaml`,
      String.raw`printf 'apiVersion: obsctl.dev/v1alpha1\nkind: Platform\ndomain: miribit.lab\ncolour: blue\n' > u.yaml`,
      `sed '88s/agent/agnet/; 89s/apiServer/apiServr/' obsctl.yaml > typo.yaml`,
    ],
  },
  // two clusters with one id
  {block: 'docs/inventory.md: $ obsctl secrets apply', setup: [`sed -i '84s/"02"/"01"/' obsctl.yaml`]},
  {block: 'docs/journal.md: $ obsctl plan --phase buckets --phase nodes'},
  {
    block: 'docs/journal.md: $ obsctl state show',
    setup: ['obsctl bootstrap --phase render --no-push --yes', ...BUCKETS_REFUSED],
  },
  {
    block: 'docs/journal.md: $ obsctl state show (2)',
    setup: [
      `mkdir -p .obsctl`,
      `echo '{"version": 1, "inventory": "obsctl.yaml", "updatedAt": "2026-12-02T07:22:03.288Z", "tasks": {"nodes/a": 1}}' > .obsctl/state.json`,
    ],
  },
  {
    block:
      'docs/kubeconfig.md: $ obsctl kubeconfig merge --from-file cluster-01=cluster-01.conf --from-file cluster-02=cluster-02.conf --kubeconfig ./kc --dry-run',
    stderr: 'error',
    // kubeadm's admin.conf of two clusters, and of cluster-02 installed again (another CA)
    files: {
      'lab/cluster-01.conf': adminConf('192.168.101.194', 'cluster-01-ca'),
      'lab/cluster-02.conf': adminConf('192.168.101.196', 'cluster-02-ca'),
      'lab/reinstalled.conf': adminConf('192.168.101.196', 'cluster-02-reinstalled-ca'),
    },
  },
  {
    block: 'docs/kubeconfig.md: $ obsctl argocd password --context nope',
    files: {
      '.kube/config': [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://192.168.101.194:6443"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts:',
        ...['cluster-01-context', 'cluster-02-context', 'mine'].map((n) => `- {name: ${n}, context: {cluster: c, user: u}}`),
        'current-context: mine',
        '',
      ].join('\n'),
    },
  },
  {block: 'docs/output.md: $ obsctl plan --phase preflight # a 50-column terminal', columns: 50},
  {block: 'docs/output.md: $ obsctl bootstrap --help # an 80-column terminal'},
  {block: 'docs/output.md: $ obsctl logs --target thanos-metrics --tail 1', setup: BUCKETS_REFUSED},
  // an S3 endpoint on loopback, as the page's folder had
  {
    block: 'docs/s3.md: $ export OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=…',
    setup: ['sed -i "s#endpoint: https://s3.minio.miribit.lab#endpoint: http://127.0.0.1:9000#" obsctl.yaml'],
  },
  {block: "docs/secrets.md: $ OBSCTL_S3_ACCESS_KEY=$'AKIA…\\n' obsctl s3 setup"},
  {
    block: 'docs/troubleshooting.md: $ obsctl doctor',
    // the page's workstation: a key file named by ssh.identityFile, one S3 key exported, no git on PATH; the S3
    // name in /etc/hosts, the others nowhere
    setup: [
      'mkdir -p ~/.ssh ~/bin && ssh-keygen -q -t ed25519 -N "" -f ~/.ssh/id_ed25519',
      String.raw`sed -i 's|^  # identityFile: ~/.ssh/id_ed25519 .*|  identityFile: ~/.ssh/id_ed25519|' obsctl.yaml`,
      'export OBSCTL_S3_ACCESS_KEY=docs',
      'ln -s "$(command -v obsctl)" ~/bin/obsctl && export PATH=~/bin',
    ],
    vary: [[/Node\.js \d+\.\d+\.\d+/, 'Node.js <version>']],
  },
]

/** Blocks that are not run, each with why: they need a live platform (its message formats are checked by hand against src/). */
const SKIPPED: {block: string; why: string}[] = [
  {block: 'docs/alerts.md: $ obsctl alerts silence NodeDown cluster=cluster-02 --for 2h --comment "node-3 kernel upgrade"', why: 'Alertmanager'},
  {block: 'docs/argocd.md: $ obsctl argocd install --manifest ./install-non-ha.yaml', why: "the central cluster's API server"},
  {block: 'docs/argocd.md: $ obsctl argocd password --rotate --generate', why: 'Argo CD on the central cluster; the password is random'},
  {block: 'docs/argocd.md: $ obsctl cluster register', why: "the edges' and central's API servers"},
  {block: 'docs/argocd.md: $ obsctl argocd sync --timeout 2', why: 'Argo CD on the central cluster'},
  {block: 'docs/bootstrap.md: $ obsctl bootstrap --all --yes # SIGKILLed during sync', why: "the end-to-end test's platform, and a SIGKILL during sync"},
  {block: 'docs/bootstrap.md: $ obsctl bootstrap --all --yes', why: "the end-to-end test's platform"},
  {block: 'docs/bootstrap.md: $ obsctl status', why: "the end-to-end test's platform"},
  {block: 'docs/certificates.md: $ obsctl certs check', why: 'control planes over SSH and their API servers'},
  {block: 'docs/day-2.md: $ obsctl upgrade chart kube-prometheus-stack --version 79.0.0 --yes', why: "the end-to-end test's fleet (Argo CD's sync)"},
  {
    block: 'docs/day-2.md: $ obsctl cluster add cluster-05 --host 127.0.1.205 --port 41989 --api-server https://127.0.0.1:PORT --yes',
    why: "the end-to-end test's fleet and a fifth sandboxed node",
  },
  {block: 'docs/day-2.md: $ obsctl cluster remove cluster-05 --reset-nodes --yes', why: "the end-to-end test's fleet"},
  {
    block: "docs/day-2.md: $ obsctl rollback --yes # meanwhile, a colleague's commit is pulled into ~/lab/gitops",
    why: "a pull into the working copy between rollback's plan and its lock (test/gitops/rollback.test.ts holds it there)",
  },
  {block: 'docs/gitops.md: $ obsctl diff --cluster cluster-02', why: "Argo CD's Applications on the central cluster"},
  {block: 'docs/nodes.md: $ obsctl node preflight', why: "the tests' sandboxed sshd nodes"},
  {block: 'docs/nodes.md: $ obsctl node install --concurrency 2', why: "the tests' sandboxed sshd nodes"},
  {block: "docs/opensearch-snapshots.md: $ obsctl opensearch snapshot --indices 'fluent-bit-cluster-99-*' --wait # exit 2", why: "OpenSearch's indices"},
  {block: 'docs/opensearch-snapshots.md: $ obsctl opensearch snapshot --name before-upgrade --wait', why: 'OpenSearch'},
  {block: 'docs/opensearch-snapshots.md: $ obsctl opensearch snapshot restore before-upgrade # exit 2', why: 'OpenSearch'},
  {block: 'docs/s3.md: $ obsctl s3 setup # against s3rver, which implements neither lifecycle nor versioning', why: 'an S3 server (s3rver)'},
  {block: 'docs/s3.md: $ obsctl s3 setup', why: 'an S3 server that refuses the keys'},
  {
    block: 'docs/secrets.md: $ OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=… obsctl secrets apply --generate-passwords --show-generated',
    why: "the clusters' API servers; the passwords are random",
  },
  {block: 'docs/secrets.md: $ obsctl secrets rotate grafana fluent-bit', why: 'Grafana, OpenSearch and the clusters'},
  {block: 'docs/status.md: $ obsctl status # exit 1', why: "the status test's platform"},
  {block: 'docs/validation.md: $ obsctl validate all', why: "the validation tests' platform"},
  {block: 'docs/validation.md: $ obsctl validate all; echo "exit $?"', why: "the validation tests' platform"},
]

/** The blocks of every page that show a run: a `$ ` line with output under it. */
function blocks(): Block[] {
  const out: Block[] = []
  for (const page of markdownPages()) {
    const text = readFileSync(path.join(ROOT, page), 'utf8')
    let from = 0
    const seen = new Map<string, number>()
    walkMarkdown(text, (t) => {
      if (t.type !== 'code') return
      const code = t as Tokens.Code
      const at = text.indexOf(code.raw, from)
      from = at + code.raw.length
      const steps: Step[] = []
      for (const l of code.text.split('\n')) {
        if (!l.startsWith('$ ')) {
          steps.at(-1)?.output.push(l)
          continue
        }
        // `# exit 2` after a command states its exit code, as `[exit 2]` under its output does
        const stated = /#\s*exit (\d+)\s*$/.exec(l)
        steps.push({command: l.slice(2), output: [], exit: stated ? Number(stated[1]) : undefined})
      }
      for (const s of steps) {
        while (s.output.length > 0 && s.output.at(-1)!.trim() === '') s.output.pop()
        const exit = /^\[exit (\d+)\]$/.exec(s.output.at(-1) ?? '')
        if (exit) {
          s.exit = Number(exit[1])
          s.output.pop()
          while (s.output.length > 0 && s.output.at(-1)!.trim() === '') s.output.pop()
        }
      }
      if (!steps.some((s) => s.output.length > 0)) return
      const first = `${page}: $ ${steps[0]!.command.trim().replace(/\s+/g, ' ')}`
      const n = (seen.get(first) ?? 0) + 1
      seen.set(first, n)
      out.push({key: n === 1 ? first : `${first} (${n})`, line: text.slice(0, at).split('\n').length, steps})
    })
  }
  return out
}

/** What legitimately varies from run to run, made alike: commit SHAs, times and run ids, durations. */
function normalise(line: string): string {
  return (
    line
      .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}(?:[.-]\d{3})?Z(?:-\d+)?/g, '<time>')
      .replace(/\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b/g, '<time>')
      // a commit as git and obsctl abbreviate it (7, 12) or in full; all digits, now and then
      .replace(/\b(?=[0-9a-f]*\d)(?:[0-9a-f]{40}|[0-9a-f]{12}|[0-9a-f]{7})\b/g, '<sha>')
      .replace(/\b\d+\.\d+s\b/g, '<dur>')
      .trimEnd()
  )
}

const elided = (l: string) => /^\s*…(?: \(.*\))?$/.test(l)

/** Where the page's lines and the printed ones part, or undefined when they match. */
function mismatch(page: string[], printed: string[], vary: [RegExp, string][] = []): string | undefined {
  const alike = (l: string) => vary.reduce((x, [re, to]) => x.replace(re, to), normalise(l))
  const want = page.map(alike)
  const got = printed.map(alike)
  const memo = new Map<string, boolean>()
  // the furthest page line reached (and there, the furthest printed line): where they part
  let far = {i: 0, j: 0}
  const match = (i: number, j: number): boolean => {
    const k = `${i},${j}`
    if (memo.has(k)) return memo.get(k)!
    if (i > far.i || (i === far.i && j > far.j)) far = {i, j}
    let ok: boolean
    if (i === want.length) ok = j === got.length
    else if (elided(want[i]!)) {
      ok = false
      for (let m = j; m <= got.length && !ok; m++) ok = match(i + 1, m)
    } else {
      const w = want[i]!
      const g = got[j]
      ok = g !== undefined && (g === w || (w.endsWith('…') && g.startsWith(w.slice(0, -1)))) && match(i + 1, j + 1)
    }
    memo.set(k, ok)
    return ok
  }
  if (match(0, 0)) return undefined
  return [
    `the page and the output part at page line ${far.i + 1}, printed line ${far.j + 1}:`,
    `  page:    ${JSON.stringify(want[far.i] ?? '(end)')}`,
    `  printed: ${JSON.stringify(got[far.j] ?? '(end)')}`,
    'printed:',
    ...printed.map((l) => `  ▏${l}`),
  ].join('\n')
}

interface Ran {
  setup: string
  steps: {output: string[]; status: number}[]
}

const STDERR = {all: '2>&1', none: '2>/dev/null', error: '2>"$HOME/stderr"'}

let dir: string
const ran = new Map<string, Ran>()

/** Every checked block, a few at a time, in one network namespace. */
async function runAll(all: Block[]): Promise<void> {
  requireBuild()
  dir = tmpDir('obsctl-docs-output-')
  const bin = path.join(dir, 'bin')
  mkdirSync(bin)
  writeFileSync(path.join(bin, 'obsctl'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {mode: 0o755})
  // every block sees its own folder at one path, HOME (a bind mount in a mount namespace of its own), so a folder
  // prepared once there (a rendered and pushed repository names its remote by that path) serves every block
  const home = path.join(dir, 'home')
  const blocksRun: string[] = []
  CHECKED.forEach((c, n) => {
    const b = all.find((x) => x.key === c.block)
    if (!b) return
    const lines = [
      'set -u -o pipefail',
      '__s=0',
      `export HOME='${home}'`,
      `cp -a '${dir}/b${n}.files/.' "$HOME" && cd "$HOME/lab" || exit 90`,
      '{',
      [':', ...(c.setup ?? [])].join(' &&\n'),
      '} > "$HOME/setup.log" 2>&1 || { echo "@@setup $?"; cat "$HOME/setup.log"; exit 0; }',
    ]
    for (const s of b.steps) {
      // `$?` in a step is the exit code of the one before, as in the shell the page shows
      lines.push(`printf '@@step\\n'`, '(exit $__s)')
      if (c.columns) {
        // a terminal of that width (CI=1 all the same: nothing prompts, no pager); its line ends as a file has them
        lines.push(`cat > "$HOME/step" <<'__STEP__'`, s.command, '__STEP__')
        lines.push(`script -qec 'stty cols ${c.columns} rows 50 && . "$HOME/step"' "$HOME/typescript" </dev/null | tr -d '\\r'`)
      } else lines.push('{', s.command, `} ${STDERR[c.stderr ?? 'all']} </dev/null`)
      lines.push('__s=$?')
      if (c.stderr === 'error') lines.push(`sed -n '/^Error:/,$p' "$HOME/stderr"`)
      lines.push(`printf '\\n@@exit %d\\n' $__s`)
    }
    const files = path.join(dir, `b${n}.files`)
    mkdirSync(files)
    for (const [f, text] of Object.entries(c.files ?? {})) {
      mkdirSync(path.dirname(path.join(files, f)), {recursive: true})
      writeFileSync(path.join(files, f), text)
    }
    writeFileSync(path.join(dir, `b${n}.sh`), `${lines.join('\n')}\n`)
    blocksRun.push(`b${n} ${c.base ?? 'example'}`)
  })
  // names resolve from a hosts file of the test's alone (the example's S3 name, as the pages' runs had it), never
  // through DNS: nothing is asked of this machine's resolver, and a name not in it is ENOTFOUND everywhere
  writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n192.168.101.10 s3.minio.miribit.lab\n')
  writeFileSync(path.join(dir, 'nsswitch.conf'), 'hosts: files\n')
  writeFileSync(path.join(dir, 'blocks'), `${blocksRun.join('\n')}\n`)
  const driver = [
    `cd '${dir}' || exit 95`,
    `mount --bind hosts /etc/hosts && mount --bind nsswitch.conf /etc/nsswitch.conf || exit 96`,
    'ip link set lo up || exit 97',
    // the bases, each made at HOME from the one before
    'mkdir -p home base/example/lab || exit 98',
    ...Object.entries(BASES).map(
      ([name, setup], i, all) =>
        [
          i > 0 ? `cp -a base/${all[i - 1]![0]} base/${name}` : ':',
          `mount --bind base/${name} home`,
          `(cd home/lab && export HOME='${home}' && ${setup.join(' && ')}) > base/${name}.log 2>&1`,
          'umount home',
        ].join(' && ') + ` || { cat base/${name}.log; exit 98; }`,
    ),
    // each block in a copy of its base, bound at HOME; a few at a time
    `xargs -P 4 -L 1 sh -c 'cp -a "base/$2" "$1" && unshare -m sh -c "mount --bind $1 home && exec bash $1.sh" > "$1.out" 2>&1; exit 0' sh < blocks`,
  ].join('\n')
  const env: NodeJS.ProcessEnv = {...process.env, PATH: `${bin}:${process.env.PATH}`, CI: '1', NO_COLOR: '1'}
  // one code cache for every run (the suite's, else one beside the folder)
  env.XDG_CACHE_HOME ??= `${dir}.cache`
  for (const k of Object.keys(env)) if (k.startsWith('OBSCTL_') || k === 'FORCE_COLOR' || k === 'KUBECONFIG' || k === 'COLUMNS') delete env[k]
  const r = await runProcess('unshare', ['-rmn', 'bash', '-c', driver], {cwd: dir, env, timeoutMs: 120_000})
  expect(r.status, `unshare -rmn (util-linux) and ip (iproute2) run the blocks offline: ${r.stdout}${r.stderr}`).toBe(0)
  CHECKED.forEach((c, n) => {
    let text: string
    try {
      text = readFileSync(path.join(dir, `b${n}.out`), 'utf8').replaceAll(home, '~')
    } catch {
      return
    }
    const failed = /^@@setup (\d+)$/m.exec(text)
    const setup = failed ? `setup failed (exit ${failed[1]}): ${text.slice(failed.index)}` : ''
    const steps = text
      .split(/^@@step\n/m)
      .slice(1)
      .map((part) => {
        const m = /\n@@exit (\d+)\n$/.exec(part)!
        const out = part.slice(0, m.index).split('\n')
        while (out.length > 0 && out.at(-1)!.trim() === '') out.pop()
        return {output: out, status: Number(m[1])}
      })
    ran.set(c.block, {setup, steps})
  })
}

const all = blocks()

describe('the output the pages show is what obsctl prints', () => {
  beforeAll(() => runAll(all), 120_000)

  it('every block that shows output is checked or skipped with its reason, and every entry names a block', () => {
    const keys = all.map((b) => b.key)
    const listed = [...CHECKED.map((c) => c.block), ...SKIPPED.map((s) => s.block)]
    expect(
      keys.filter((k) => !listed.includes(k)).map((k) => `${k} (line ${all.find((b) => b.key === k)!.line})`),
      'blocks in neither CHECKED nor SKIPPED',
    ).toEqual([])
    expect(
      listed.filter((k) => !keys.includes(k)),
      'entries that name no block (the page changed: update the entry)',
    ).toEqual([])
    expect(
      listed.filter((k, i) => listed.indexOf(k) !== i),
      'entries listed twice',
    ).toEqual([])
  })

  it.each(CHECKED.map((c) => [c.block, c] as const))('%s', (_key, c) => {
    const b = all.find((x) => x.key === c.block)!
    const r = ran.get(c.block)
    expect(r, 'the block ran').toBeDefined()
    expect(r!.setup).toBe('')
    expect(r!.steps.length).toBe(b.steps.length)
    for (const [i, s] of b.steps.entries()) {
      const got = r!.steps[i]!
      const where = `${b.key.split(':')[0]}:${b.line}, step ${i + 1}: $ ${s.command}`
      const wrong = mismatch(s.output, got.output, c.vary)
      if (wrong) expect.fail(`${where}\n${wrong}`)
      // the exit code the page states; else an `echo $?` step after it shows it; else an error's is not 0, and any other's is
      if (s.exit !== undefined) expect(got.status, `${where}: exit`).toBe(s.exit)
      else if (b.steps[i + 1]?.command.trim() === 'echo $?') continue
      else if (s.output.some((l) => l.startsWith('Error:'))) expect(got.status, `${where}: an error exits non-zero`).not.toBe(0)
      else expect(got.status, `${where}: exit`).toBe(0)
    }
  })
})
