/**
 * A small real file system the test controls: a tmpfs mounted in a user + mount namespace of its own
 * (`unshare -rm`, no root needed, nothing of the host is mounted or changed), which a command then finds
 * full or read-only. Everything happens in one shell inside the namespace (the mount ends with it): the
 * fixture is copied in, the disk is filled to `freePages` free 4 KiB pages (or remounted read-only), the
 * command runs, and what the file system then holds is copied out (`tree`) for the test to look at.
 *
 * Read-only is `mount -o remount,bind,ro`: the per-mount flag, which an unprivileged namespace may set
 * (a remount of the tmpfs itself is refused there), and which gives EROFS as a read-only disk does.
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runProcess} from '../cli/helpers.js'

export const PAGE = 4096

/**
 * Why this kernel or container refuses the namespace and the mount (a seccomp profile, user namespaces turned off),
 * or undefined when it works. The tests then skip, saying why; without unshare at all they fail.
 */
export function smallFsRefused(): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-smallfs-probe-'))
  try {
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${dir} && mount -o remount,bind,ro ${dir}`], {encoding: 'utf8'})
    // no unshare at all is a machine not set up for the tests (util-linux, test/support/peers.ts): a failure, not a skip
    if (r.error) throw new Error(`unshare (util-linux) could not run: ${r.error.message}`)
    return r.status === 0 ? undefined : `the kernel refused unshare -rm + mount -t tmpfs here: ${(r.stderr || `exit ${r.status}`).trim()}`
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export interface SmallFsRun {
  status: number | null
  stdout: string
  stderr: string
  /** the file system as the command left it (the filler removed), copied out */
  tree: string
}

/**
 * Run `argv` (cwd: `cwd` inside the file system) on a tmpfs of `sizeKiB` holding a copy of `fixture`, with the disk
 * full but `freePages` pages, or read-only. No network (`-n`): nothing can reach the example's addresses.
 */
export async function onSmallFs(o: {
  fixture: string
  sizeKiB: number
  disk: {freePages: number} | 'read-only'
  cwd: string
  argv: string[]
  env?: NodeJS.ProcessEnv
}): Promise<SmallFsRun> {
  const work = mkdtempSync(path.join(tmpdir(), 'obsctl-smallfs-'))
  const mnt = path.join(work, 'fs')
  const out = path.join(work, 'out')
  mkdirSync(mnt)
  mkdirSync(out)
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  const choke =
    o.disk === 'read-only'
      ? `mount -o remount,bind,ro "$M"`
      : // yes stops at ENOSPC; then the filler gives back freePages whole pages
        `yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx > "$M/.filler" 2> ${q(out)}/filler.err || true; s=$(stat -c %s "$M/.filler"); truncate -s $((s / ${PAGE} * ${PAGE} - ${o.disk.freePages * PAGE})) "$M/.filler"`
  const script = [
    'set -e',
    `M=${q(mnt)}`,
    `mount -t tmpfs -o size=${o.sizeKiB}k tmpfs "$M"`,
    `cp -a ${q(o.fixture)}/. "$M"/`,
    choke,
    'set +e',
    `cd "$M"/${q(o.cwd)} && ${o.argv.map(q).join(' ')} > ${q(out)}/stdout 2> ${q(out)}/stderr; echo $? > ${q(out)}/status`,
    o.disk === 'read-only' ? 'mount -o remount,bind,rw "$M"' : 'true',
    'rm -f "$M/.filler"',
    `cp -a "$M"/. ${q(out)}/tree/`,
  ].join('\n')
  const r = await runProcess('unshare', ['-rmn', 'sh', '-c', script], {env: {...process.env, CI: '1', NO_COLOR: '1', ...o.env}, timeoutMs: 120_000})
  if (r.status !== 0) throw new Error(`the small file system could not be set up (exit ${r.status}): ${r.stderr}`)
  return {
    status: Number(readFileSync(path.join(out, 'status'), 'utf8')),
    stdout: readFileSync(path.join(out, 'stdout'), 'utf8'),
    stderr: readFileSync(path.join(out, 'stderr'), 'utf8'),
    tree: path.join(out, 'tree'),
  }
}

/**
 * The `sh -c` argv of a command run twice: first on the full disk, its stdout, stderr and exit status kept in `out`
 * (a folder outside the small file system, which ends with the run), then `between` (shell), the filler removed, and
 * `after(cmd)` (shell, `cmd` being the command again, quoted) with space on the disk. `before`: shell run first.
 */
export function fullThenSpace(args: string[], out: string, o: {before?: string; between?: string; after: (cmd: string) => string}): string[] {
  const cmd = args.map((a) => `'${a}'`).join(' ')
  const steps = [o.before, `${cmd} > '${out}/stdout' 2> '${out}/stderr'`, `echo $? > '${out}/status'`, o.between, 'rm ../.filler', o.after(cmd)]
  return ['sh', '-c', steps.filter(Boolean).join('; ')]
}
