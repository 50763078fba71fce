/**
 * A full or read-only disk (the workstation has been seen with 287 MB free): on a real tmpfs of a few MB
 * (test/support/small-fs.ts, a user + mount namespace), filled to a given number of free pages or made
 * read-only, the built CLI must fail loudly (exit non-zero, the reason in words and the file it could not
 * write), keep every file as it was or write it whole (never truncated: write(2) on a nearly full disk
 * writes what fits), leave no temporary file behind, and its journal must never claim what is not on disk.
 *
 * The free space is swept page by page, from none to enough, so every write of the command meets the
 * full disk in turn: the run lock, the journal, the task logs, the file itself.
 */
import {cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'
import {adminConf, fakeB64} from '../kube/fixtures.js'
import {fullThenSpace, onSmallFs, PAGE, smallFsRefused, type SmallFsRun} from '../support/small-fs.js'
import {BIN, obsctl, requireBuild, ROOT, tmpDir, packForCopies} from './helpers.js'

const refused = smallFsRefused()
// CI runs as root in a fresh container, where seccomp may refuse user namespaces: then say so, do not pass quietly
if (refused) process.stderr.write(`disk-full tests skipped: ${refused}\n`)
const describeFs = (title: string, body: () => void) => (refused ? describe.skip(`${title} (skipped: ${refused})`, body) : describe(title, body))

/** Every file under dir (relative paths) and its text, `.git/` left out, a run's log folder named RUN, a kubeconfig backup's time TIME. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) {
        if (e.name !== '.git') walk(p)
      } else
        out.set(
          path
            .relative(dir, p)
            .replace(/(\.obsctl\/logs\/)[^/]+/, '$1RUN')
            .replace(/(\.obsctl-backup-).+$/, '$1TIME'),
          e.isFile() ? readFileSync(p, 'latin1') : 'link',
        )
    }
  }
  walk(dir)
  return out
}

/** Files a write left half-done: temporary names of obsctl and of the libraries it used. */
const leftovers = (tree: string) => [...files(tree).keys()].filter((f) => /\.obsctl-tmp$|\.tmp$|\.\d+$/.test(f))

function expectLoudFailure(r: SmallFsRun, reason: RegExp): void {
  expect(r.status, r.stderr).not.toBe(0)
  // the reason in words and the file, not ENOSPC/EROFS codes or a temporary name
  expect(r.stderr).toMatch(new RegExp(`^Error: (.*: )?cannot (write|create the folder) /\\S+[^.\\d]: ${reason.source}$`, 'm'))
  expect(r.stderr).not.toMatch(/ENOSPC|EROFS|obsctl-tmp|lock\.\d+/)
  expect(r.stdout).not.toMatch(/^wrote /m)
}

let root: string
let fixture: string
beforeAll(async () => {
  requireBuild()
  if (refused) return
  root = tmpDir('obsctl-disk-full-')
  fixture = path.join(root, 'fixture')
  const inv = path.join(fixture, 'a', 'obsctl.yaml')
  expect((await obsctl(['init', '--example', '-c', inv])).status).toBe(0)
  // rendered and committed, as after a bootstrap (--no-push: the example's remote is never reached)
  const first = await obsctl(['config', 'set', 'retention.prometheus', '7h', '--no-push', '--no-sync', '--yes', '-c', inv])
  expect(first.status, first.stderr).toBe(0)
  // every run copies the fixture onto its small disk and the disk's whole tree back out; git add and commit still
  // write loose objects, the index and the ref on the small disk
  packForCopies(path.join(fixture, 'a', 'gitops'))
  writeFileSync(path.join(root, 'c1.conf'), adminConf('c1'))
  // a kubeconfig of 24 clusters (~6 pages): the merged file spans pages, so a short write could truncate it
  const clusters = Array.from({length: 24}, (_, i) => ({
    name: `old-${i}`,
    cluster: {server: `https://127.0.0.${i + 10}:6443`, 'certificate-authority-data': fakeB64(`ca${i}`, 300)},
  }))
  const users = clusters.map((c, i) => ({name: `${c.name}-admin`, user: {token: fakeB64(`token${i}`, 120)}}))
  const contexts = clusters.map((c) => ({name: `${c.name}-context`, context: {cluster: c.name, user: `${c.name}-admin`}}))
  const kube = path.join(fixture, 'kube')
  mkdirSync(kube)
  writeFileSync(path.join(kube, 'config'), YAML.stringify({apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': 'old-0-context'}), {
    mode: 0o600,
  })
})

describeFs('a full disk', () => {
  it('kubeconfig merge: the kubeconfig is replaced whole (0600) or kept as it was, never truncated; no temporary file; the journal claims only what is on disk', async () => {
    const kubeconfig = path.join(fixture, 'kube', 'config')
    const before = readFileSync(kubeconfig, 'utf8')
    const run = (disk: {freePages: number}) =>
      onSmallFs({
        fixture,
        sizeKiB: 4096,
        disk,
        cwd: 'a',
        // the kubeconfig given by a path inside the small file system (the command runs there)
        argv: [
          'sh',
          '-c',
          `KUBECONFIG="$PWD/../kube/config" exec "$0" "$@"`,
          process.execPath,
          BIN,
          'kubeconfig',
          'merge',
          'cluster-01',
          '--from-file',
          `cluster-01=${path.join(root, 'c1.conf')}`,
        ],
      })
    const ok = await run({freePages: 1000})
    expect(ok.status, ok.stderr).toBe(0)
    const merged = readFileSync(path.join(ok.tree, 'kube', 'config'), 'utf8')
    expect(merged.length).toBeGreaterThan(before.length)
    expect(Math.ceil(merged.length / PAGE)).toBeGreaterThan(4)
    const wanted = new Set(files(ok.tree).keys())
    const outcomes: string[] = []
    // every other page: a cut inside the backup, inside the new file and in the journal each come up several times
    for (let freePages = 0; freePages <= 2 * Math.ceil(merged.length / PAGE) + 8; freePages += 2) {
      const r = await run({freePages})
      const now = readFileSync(path.join(r.tree, 'kube', 'config'), 'utf8')
      outcomes.push(`${freePages}: exit ${r.status}`)
      if (r.status === 0) expect(now, `${freePages} free pages`).toBe(merged)
      else {
        expectLoudFailure(r, /no space left on the device/)
        expect(r.stderr).toMatch(/→ free some space on the file system holding \/\S+ \(df -h \/\S+\) and run the same command again/)
        expect(
          now === before || now === merged,
          `${freePages} free pages: the kubeconfig is neither the old one nor the merged one (${now.length} bytes)`,
        ).toBe(true)
      }
      expect(statSync(path.join(r.tree, 'kube', 'config')).mode & 0o777).toBe(0o600)
      expect(leftovers(r.tree), `${freePages} free pages`).toEqual([])
      for (const f of files(r.tree).keys()) expect(wanted.has(f), `${freePages} free pages: ${f}`).toBe(true)
      expect(lstatSync(path.join(r.tree, 'a', '.obsctl')).mode & 0o777).toBe(0o700)
      // the journal is whole, and says the merge is done only when the kubeconfig has it
      // the kubeconfig's backup, when one was written, is the old kubeconfig whole
      const backup = files(r.tree).get('kube/config.obsctl-backup-TIME')
      if (backup !== undefined) expect(backup).toBe(before)
      const journalFile = path.join(r.tree, 'a', '.obsctl', 'state.json')
      const journal = existsSync(journalFile) ? JSON.parse(readFileSync(journalFile, 'utf8')) : {tasks: {}}
      if (journal.tasks['kubeconfig/cluster-01']?.status === 'done') expect(now).toBe(merged)
    }
    // the sweep met the disk full and then not
    expect(outcomes.some((o) => !o.endsWith('exit 0'))).toBe(true)
    expect(outcomes.at(-1)).toMatch(/exit 0$/)
  })

  it('render: every rendered file is the old one or the new one whole; the manifest is whole; no temporary file', async () => {
    // the inventory changed since the last render: retention is in several rendered files
    const changed = path.join(root, 'changed')
    cpSync(fixture, changed, {recursive: true})
    const inv = path.join(changed, 'a', 'obsctl.yaml')
    writeFileSync(inv, readFileSync(inv, 'utf8').replace(/^(\s+prometheus:) 7h/m, '$1 9h'))
    const run = (disk: {freePages: number}) => onSmallFs({fixture: changed, sizeKiB: 4096, disk, cwd: 'a', argv: [process.execPath, BIN, 'render']})
    const ok = await run({freePages: 1000})
    expect(ok.status, ok.stderr).toBe(0)
    const old = files(changed)
    const rendered = files(ok.tree)
    const differ = [...rendered.keys()].filter((f) => f.startsWith('a/gitops/') && rendered.get(f) !== old.get(f))
    expect(differ.length).toBeGreaterThan(2)
    let failures = 0
    for (let freePages = 0; freePages <= 10; freePages += 2) {
      const r = await run({freePages})
      if (r.status !== 0) {
        failures++
        expectLoudFailure(r, /no space left on the device/)
      }
      const now = files(r.tree)
      expect(leftovers(r.tree), `${freePages} free pages`).toEqual([])
      for (const [f, text] of now) {
        // the manifest may be the pending one, written before the files (a later render finishes the job): whole JSON
        if (!f.startsWith('a/gitops/') || f === 'a/gitops/.obsctl-render.json') continue
        expect(text === old.get(f) || text === rendered.get(f), `${freePages} free pages: ${f} is neither the old file nor the rendered one`).toBe(true)
      }
      JSON.parse(now.get('a/gitops/.obsctl-render.json')!)
    }
    expect(failures).toBeGreaterThan(0)
  })
})

describeFs('a full disk, then space again', () => {
  it('config set --no-push stopped by the full disk (its inventory write, render, git add or commit): the same command, run again, commits the change as the first attempt would have (title, inventory before)', async () => {
    const firstRun = tmpDir('obsctl-disk-full-first-')
    const failedAt = new Set<string>()
    // every third page: with the example inventory the first run stops at the lock (0 free pages), the render (3), git
    // add (6, 9: an object, the index) and git commit (12, 15, 18: an object, the index, the next index); each page of
    // 0-21 was run once and stopped it at one of these or at the inventory write (1, 2), which, like the lock, leaves the
    // inventory as it was and the rerun a run from the start
    for (let freePages = 0; freePages <= 18; freePages += 3) {
      const out = path.join(firstRun, String(freePages))
      mkdirSync(out)
      // the first run on the full disk (its output kept outside it), the filler removed, the same command again
      const r = await onSmallFs({
        fixture,
        sizeKiB: 4096,
        disk: {freePages},
        cwd: 'a',
        // then what the rerun committed: its message
        argv: fullThenSpace([process.execPath, BIN, 'config', 'set', 'retention.prometheus', '12h', '--no-push', '--no-sync', '--yes'], out, {
          after: (cmd) => `${cmd} && exec git -C gitops log -1 --format=%B`,
        }),
      })
      const read = (f: string) => readFileSync(path.join(out, f), 'utf8')
      const first = {status: Number(read('status')), stderr: read('stderr')}
      if (first.status !== 0) {
        expect(first.stderr).toMatch(/no space left on the device|No space left on device|Out of diskspace/)
        failedAt.add(/^Error: ([^:]+)/m.exec(first.stderr)?.[1] ?? first.stderr)
      }
      expect(r.status, `${freePages} free pages, then space: ${r.stderr}`).toBe(0)
      const gitops = path.join(r.tree, 'a', 'gitops')
      const git = (...args: string[]) => execFileSync('git', ['-C', gitops, ...args], {encoding: 'utf8'})
      expect(git('status', '--porcelain'), `${freePages} free pages, then space: everything rendered is committed`).toBe('')
      expect(git('show', 'HEAD:deploy/base/thanos/receive.yaml')).toContain('--tsdb.retention=12h')
      expect(readFileSync(path.join(r.tree, 'a', 'obsctl.yaml'), 'utf8')).toMatch(/^\s+prometheus: 12h/m)
      // the commit, first attempt or resumed, is the change's: its title and the inventory before it (what rollback
      // restores: test/gitops/rollback.test.ts), kept in .obsctl/inventory/
      const message = r.stdout
      expect(message, `${freePages} free pages, then space`).toMatch(/^obsctl: set retention\.prometheus 7h → 12h$/m)
      expect(message).toMatch(/^Obsctl-Command: config set$/m)
      const beforeHash = /^Obsctl-Inventory-Before: sha256:([0-9a-f]{64})$/m.exec(message)?.[1]
      expect(beforeHash, `${freePages} free pages, then space: ${message}`).toBeDefined()
      expect(readFileSync(path.join(r.tree, 'a', '.obsctl', 'inventory', `${beforeHash}.yaml`), 'utf8')).toBe(
        readFileSync(path.join(fixture, 'a', 'obsctl.yaml'), 'utf8'),
      )
      expect(leftovers(r.tree)).toEqual([])
    }
    // the sweep stopped the first run at the lock, the inventory, the render and Git
    expect(
      [...failedAt].some((f) => f.startsWith('cannot write')),
      [...failedAt].join(' | '),
    ).toBe(true)
    expect(
      [...failedAt].some((f) => /^git (add|commit) failed/.test(f)),
      [...failedAt].join(' | '),
    ).toBe(true)
  })
})

describeFs('a full disk, then space again: init', () => {
  it('init --example stopped by the full disk leaves no inventory behind (the same command, run again, is not refused); once there is space it writes both files', async () => {
    const firstRun = tmpDir('obsctl-disk-full-init-')
    // what init writes on a disk with room
    const reference = tmpDir('obsctl-disk-full-init-ref-')
    expect((await obsctl(['init', '--example', '-c', path.join(reference, 'obsctl.yaml')])).status).toBe(0)
    const failed: string[] = []
    for (let freePages = 0; freePages <= 12; freePages += 2) {
      const out = path.join(firstRun, String(freePages))
      mkdirSync(out)
      const r = await onSmallFs({
        fixture,
        sizeKiB: 4096,
        disk: {freePages},
        cwd: 'a',
        argv: fullThenSpace([process.execPath, BIN, 'init', '--example', '-c', 'fresh/obsctl.yaml'], out, {
          between: `ls fresh > '${out}/ls' 2>&1`,
          after: (cmd) => `[ "$(cat '${out}/status')" = 0 ] || exec ${cmd}`,
        }),
      })
      const first = {status: Number(readFileSync(path.join(out, 'status'), 'utf8')), stderr: readFileSync(path.join(out, 'stderr'), 'utf8')}
      if (first.status !== 0) {
        failed.push(/^Error: (.*)$/m.exec(first.stderr)?.[1] ?? first.stderr)
        expectLoudFailure({...first, stdout: readFileSync(path.join(out, 'stdout'), 'utf8'), tree: ''}, /no space left on the device/)
        // the inventory is the last file written: a failed init leaves none
        expect(readFileSync(path.join(out, 'ls'), 'utf8'), `${freePages} free pages`).not.toMatch(/obsctl\.yaml/)
      }
      expect(r.status, `${freePages} free pages, then space: ${r.stderr}`).toBe(0)
      expect(readFileSync(path.join(r.tree, 'a', 'fresh', 'obsctl.yaml'), 'utf8')).toBe(readFileSync(path.join(reference, 'obsctl.yaml'), 'utf8'))
      JSON.parse(readFileSync(path.join(r.tree, 'a', 'fresh', '.obsctl', 'schema.json'), 'utf8'))
      expect(leftovers(r.tree)).toEqual([])
    }
    // the sweep stopped the first run at the schema and at the inventory
    expect(
      failed.some((f) => f.includes('schema.json')),
      failed.join(' | '),
    ).toBe(true)
    expect(
      failed.some((f) => f.includes('fresh/obsctl.yaml')),
      failed.join(' | '),
    ).toBe(true)
  })
})

describeFs('a read-only disk', () => {
  it('render and bootstrap --dry-run say the file system is read-only and name the file or folder (not "no such file", exit 2); nothing changes', async () => {
    const before = files(fixture)
    const render = await onSmallFs({fixture, sizeKiB: 4096, disk: 'read-only', cwd: 'a', argv: [process.execPath, BIN, 'render']})
    expectLoudFailure(render, /the file system is read-only/)
    expect(render.stderr).toMatch(/^Error: cannot write \S+\/a\/\.obsctl\/lock: the file system is read-only$/m)
    expect(render.stderr).toMatch(/→ \S+\/a\/\.obsctl is on a read-only file system: remount it read-write, or run from a folder on a writable one/)
    expect(files(render.tree)).toEqual(before)

    const dry = await onSmallFs({fixture, sizeKiB: 4096, disk: 'read-only', cwd: 'a', argv: [process.execPath, BIN, 'bootstrap', '--all', '--dry-run']})
    expect(dry.status, dry.stderr).toBe(1)
    expect(dry.stderr).toMatch(/^Error: cannot create the folder \S+\/a\/\.obsctl\/dry-run: the file system is read-only$/m)
    expect(dry.stderr).not.toMatch(/no such file/)
    expect(files(dry.tree)).toEqual(before)
  })
})

describeFs('a full disk: known_hosts', () => {
  // The append is driven through the module's own function (dist/lib/ssh/known-hosts.js `append`, what the SSH pool
  // calls on a first connection under accept-new), on the small tmpfs — a real file system, not a mock — rather than
  // through a real sshd: the node sandbox (test/support/sshd.ts) would have to run beside the namespace. The file
  // lock, the O_APPEND write and the file's mode are the ones every connection uses.
  it('a new host key line is appended whole or not at all: a short write is taken back, so the next connection does not find a CHANGED key', async () => {
    const dir = path.join(root, 'kh-fixture')
    mkdirSync(path.join(dir, 'kh'), {recursive: true})
    // an ed25519 key blob (string "ssh-ed25519", string of 32 bytes), as a host presents it
    const blob = (seed: number) => {
      const t = Buffer.from('ssh-ed25519')
      const k = Buffer.alloc(32, seed)
      const len = (n: number) => Buffer.from([0, 0, 0, n])
      return Buffer.concat([len(t.length), t, len(k.length), k])
    }
    // other hosts' lines, then padding comments, so that the file ends 50 bytes before a page boundary: the new line
    // (98 bytes) then crosses into a page the full disk does not have, and write(2) writes 50 bytes, inside the key
    let text = Array.from({length: 40}, (_, i) => `[127.0.2.${i}]:2222 ssh-ed25519 ${blob(i + 1).toString('base64')}\n`).join('')
    const end = 2 * PAGE - 50
    while (text.length < end) text += `#${'x'.repeat(Math.min(78, end - text.length - 2))}\n`
    expect(text.length).toBe(end)
    writeFileSync(path.join(dir, 'kh', 'known_hosts'), text, {mode: 0o600})
    const script = path.join(root, 'kh-append.mjs')
    writeFileSync(
      script,
      [
        `import {readFileSync, statSync, unlinkSync} from 'node:fs'`,
        `const {append, check} = await import(${JSON.stringify(path.join(ROOT, 'dist/lib/ssh/known-hosts.js'))})`,
        // the words the CLI shows (errors.ts fromFsError)
        `const {fsErrorMessage} = await import(${JSON.stringify(path.join(ROOT, 'dist/lib/errors.js'))})`,
        `const key = Buffer.from(${JSON.stringify(blob(200).toString('base64'))}, 'base64')`,
        `const attempt = async () => append('known_hosts', '127.0.1.9', 2222, key).then(() => 'ok', (e) => fsErrorMessage(e) ?? e.code + ': ' + e.message)`,
        `const first = await attempt()`,
        `const afterFirst = readFileSync('known_hosts', 'latin1')`,
        `const modeAfterFirst = statSync('known_hosts').mode & 0o777`,
        // space again: the same host connects again
        `unlinkSync('../.filler')`,
        `const decision = check('known_hosts', '127.0.1.9', 2222, key).status`,
        `const second = await attempt()`,
        `console.log(JSON.stringify({first, afterFirst, modeAfterFirst, decision, second}))`,
      ].join('\n'),
    )
    const line = `[127.0.1.9]:2222 ssh-ed25519 ${blob(200).toString('base64')}\n`
    expect(line.length).toBe(98)
    const outcomes: string[] = []
    for (let freePages = 0; freePages <= 3; freePages++) {
      const r = await onSmallFs({fixture: dir, sizeKiB: 1024, disk: {freePages}, cwd: 'kh', argv: [process.execPath, script]})
      expect(r.status, r.stderr).toBe(0)
      const o = JSON.parse(r.stdout) as {first: string; afterFirst: string; modeAfterFirst: number; decision: string; second: string}
      outcomes.push(`${freePages}: ${o.first}`)
      if (o.first === 'ok') expect(o.afterFirst, `${freePages} free pages`).toBe(text + line)
      else {
        // the next connection, with space, finds the key new (not CHANGED) and records it
        expect(o.decision, `${freePages} free pages: ${o.first}`).toBe('new')
        expect(o.second).toBe('ok')
        // exactly as it was: no partial line
        expect(o.afterFirst.length, `${freePages} free pages: ${JSON.stringify(o.afterFirst.slice(text.length))}`).toBe(text.length)
        expect(o.afterFirst).toBe(text)
        expect(o.first).toMatch(/^cannot write \/\S+\/kh\/known_hosts(\.lock)?: no space left on the device$/)
      }
      expect(o.modeAfterFirst).toBe(0o600)
      expect(readFileSync(path.join(r.tree, 'kh', 'known_hosts'), 'latin1')).toBe(text + line)
      expect(readdirSync(path.join(r.tree, 'kh')).sort()).toEqual(['known_hosts'])
    }
    // the sweep met the disk full at the lock, at the line itself, and then not
    expect(outcomes.join(' | ')).toMatch(/known_hosts\.lock: no space/)
    expect(outcomes.join(' | ')).toMatch(/known_hosts: no space/)
    expect(outcomes.at(-1)).toMatch(/: ok$/)
  })
})

describeFs('a full disk at exit: the code cache', () => {
  it('a cache entry the full disk cut short is never read back: the next start, with space, runs as without a cache', async () => {
    // the inventory and a code cache warmed by one run (the compiled code of every file the command loads): on the
    // small disk only the results derived from the inventory (named after its path there) are new, and written at exit
    const dir = path.join(root, 'cache-fixture')
    cpSync(path.join(fixture, 'a'), path.join(dir, 'a'), {recursive: true})
    const warm = await obsctl(['plan', '-c', path.join(dir, 'a', 'obsctl.yaml')], {env: {XDG_CACHE_HOME: path.join(dir, 'cache'), OBSCTL_CODE_CACHE: '1'}})
    expect(warm.status, warm.stderr).toBe(0)
    const run = (freePages: number, out: string) =>
      onSmallFs({
        fixture: dir,
        sizeKiB: 8192,
        disk: {freePages},
        cwd: 'a',
        env: {OBSCTL_CODE_CACHE: '1'},
        // the first start on the full disk (the cache written at its exit), then space again and the next start
        argv: fullThenSpace([process.execPath, BIN, 'plan'], out, {before: 'export XDG_CACHE_HOME="$PWD/../cache"', after: (cmd) => `exec ${cmd}`}),
      })
    // each run's file system is mounted at a folder of its own
    const sameFs = (text: string) => text.replaceAll(/obsctl-smallfs-\w+/g, 'FS')
    const outs = tmpDir('obsctl-disk-full-cache-')
    const reference = await run(100_000, outs)
    expect(reference.status, reference.stderr).toBe(0)
    // the derived results, written at the end of the first start
    const derived = readdirSync(path.join(reference.tree, 'cache', 'obsctl', 'code-cache'), {recursive: true, encoding: 'utf8'}).filter((f) =>
      f.includes('data!'),
    )
    expect(derived.length).toBeGreaterThan(1)
    // every 8 pages (a derived entry is ~32): a cut inside one, between two, and none; the cut entries below are cut by hand
    for (let freePages = 0; freePages <= 64; freePages += 8) {
      const out = path.join(outs, String(freePages))
      mkdirSync(out)
      const r = await run(freePages, out)
      // the command itself does not fail for want of space for its cache
      expect(Number(readFileSync(path.join(out, 'status'), 'utf8')), readFileSync(path.join(out, 'stderr'), 'utf8')).toBe(0)
      // the next start reads what the first one left: the same plan
      expect(r.status, `${freePages} free pages, then space: ${r.stderr}`).toBe(0)
      expect(sameFs(r.stdout), `${freePages} free pages, then space`).toBe(sameFs(reference.stdout))
      expect(leftovers(r.tree).filter((f) => f.startsWith('cache/'))).toEqual([])
    }

    // an entry cut short by other means (a copy, a crash of the machine before the data reached the disk) is not
    // read back either: each derived result records its length
    const cache = path.join(dir, 'cache')
    const entries = readdirSync(cache, {recursive: true, encoding: 'utf8'}).filter((f) => path.basename(f).startsWith('data!'))
    expect(entries.length).toBeGreaterThan(1)
    for (const f of entries) {
      const text = readFileSync(path.join(cache, f))
      writeFileSync(path.join(cache, f), text.subarray(0, text.length - 100))
    }
    const cut = await obsctl(['plan', '-c', path.join(dir, 'a', 'obsctl.yaml')], {env: {XDG_CACHE_HOME: cache, OBSCTL_CODE_CACHE: '1'}})
    expect(cut.status, cut.stderr).toBe(0)
    expect(cut.stdout).toBe(warm.stdout)
  })
})

describeFs('a full disk: task logs', () => {
  // the log's own class (dist/lib/engine/logs.js TaskLog, what every task writes through) on the small tmpfs
  it('a log line is appended whole or not at all, and the error names the log', async () => {
    const dir = path.join(root, 'log-fixture')
    mkdirSync(path.join(dir, 'logs'), {recursive: true, mode: 0o700})
    // earlier lines, ending 20 bytes before a page boundary: the next line (100 bytes) crosses it
    const earlier = Array.from({length: (2 * PAGE) / 64}, (_, i) => `2026-01-01T00:00:00.000Z line ${String(i).padStart(4, '0')} ${'x'.repeat(28)}\n`).join('')
    const text = earlier.slice(0, earlier.length - 64) + `2026-01-01T00:00:00.000Z ${'y'.repeat(64 - 20 - 25 - 1)}\n`
    expect(text.length).toBe(2 * PAGE - 20)
    writeFileSync(path.join(dir, 'logs', 'a.log'), text, {mode: 0o600})
    const script = path.join(root, 'log-append.mjs')
    writeFileSync(
      script,
      [
        `const {TaskLog} = await import(${JSON.stringify(path.join(ROOT, 'dist/lib/engine/logs.js'))})`,
        `const {fsErrorMessage} = await import(${JSON.stringify(path.join(ROOT, 'dist/lib/errors.js'))})`,
        `const log = new TaskLog('logs/a.log')`,
        `let result = 'ok'`,
        `try { log.write('${'z'.repeat(75)}') } catch (e) { result = fsErrorMessage(e) ?? String(e) }`,
        `log.close()`,
        `console.log(result)`,
      ].join('\n'),
    )
    const r = await onSmallFs({fixture: dir, sizeKiB: 1024, disk: {freePages: 0}, cwd: '.', argv: [process.execPath, script]})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout.trim()).toMatch(/^cannot write \/\S+\/logs\/a\.log: no space left on the device$/)
    const now = readFileSync(path.join(r.tree, 'logs', 'a.log'), 'latin1')
    expect(now.length, JSON.stringify(now.slice(text.length))).toBe(text.length)
    expect(now).toBe(text)
  })
})
