/**
 * Runs once before the suite: makes sure the system peers the tests need exist (DESIGN.md §5), and
 * gives the run one temporary folder of its own.
 *
 * Every test worker, and every process a test starts (obsctl, sshd, prometheus, git, kubectl), inherits
 * TMPDIR (and XDG_CACHE_HOME, for obsctl's code cache), so `os.tmpdir()`-based folders all land under one run folder that the teardown removes
 * whole: a test that forgets its own clean-up, or a worker killed by a timeout, leaves nothing behind. The run
 * folder is in memory (/dev/shm) when that is a tmpfs with 2 GiB free, else in the temporary folder;
 * OBSCTL_TEST_TMPDIR_PARENT=FOLDER chooses.
 * The teardown also ends any peer process still running from that folder.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync, statfsSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {ensureSystemPeers} from './peers.js'

/** Processes whose command line or working folder lies under `dir` (peers a test started and never stopped). */
export function processesUnder(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      let cwd = ''
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`)
      } catch {}
      if (cmd.includes(dir) || cwd.startsWith(dir)) pids.push(pid)
    } catch {}
  }
  return pids
}

/** statfs's f_type of a tmpfs (linux/magic.h TMPFS_MAGIC) */
const TMPFS_MAGIC = 0x01021994
/** the suite's files at their peak took ~165 MB (sampled every 2 s, 5 December); a Docker /dev/shm has 64 MB */
const MEMORY_FOLDER_MIN_FREE = 2 * 1024 ** 3

/**
 * /dev/shm when it is a tmpfs with room to spare where a file can be run, else undefined. The suite creates and
 * removes tens of thousands of small files (sandboxes, Git repositories, copies of prepared folders): on this VM's
 * ext4 that was ~1/4 of the run's system CPU, and a file created where many were removed minutes before costs 2–5
 * times more (docs/performance.md, eighteenth round). Nothing the tests check depends on a disk: the full-disk tests
 * mount a tmpfs of their own. The tests run scripts from the run folder (the sandbox's shims, Git hooks, GIT_SSH),
 * so a tmpfs mounted noexec (as a container's /dev/shm often is) is not used either: one script is tried there.
 */
export function memoryFolder(dir = '/dev/shm'): string | undefined {
  let probe: string | undefined
  try {
    const fs = statfsSync(dir)
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < MEMORY_FOLDER_MIN_FREE) return undefined
    probe = mkdtempSync(path.join(dir, 'obsctl-exec-probe-'))
    const script = path.join(probe, 'probe.sh')
    writeFileSync(script, '#!/bin/sh\nexit 0\n', {mode: 0o755})
    execFileSync(script, {stdio: 'ignore'})
    return dir
  } catch {
    return undefined
  } finally {
    if (probe) rmSync(probe, {recursive: true, force: true})
  }
}

export default async function setup(): Promise<() => void> {
  await ensureSystemPeers()
  const base = process.env.OBSCTL_TEST_TMPDIR_PARENT ?? memoryFolder() ?? tmpdir()
  const dir = mkdtempSync(path.join(base, 'obsctl-tests-'))
  process.env.TMPDIR = dir
  // git reaches only local repositories in tests: a remote left at the example's https://git.miribit.lab (or an
  // ssh one) fails at once with "transport … not allowed" instead of sending a DNS query off this machine
  process.env.GIT_ALLOW_PROTOCOL = 'file'
  // the CLI's code cache (src/lib/code-cache.ts) goes there too, not into the user's ~/.cache
  process.env.XDG_CACHE_HOME = path.join(dir, 'cache')
  // every peer is on loopback with a CA the test made; a machine-wide extra CA bundle is read and parsed by
  // every Node process at start (~80 ms of CPU for Debian's ~140 certificates: `node -e 0` 118 ms against
  // 37 ms) and the suite starts about a thousand of them
  delete process.env.NODE_EXTRA_CA_CERTS
  return () => {
    for (const pid of processesUnder(dir)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    try {
      rmSync(dir, {recursive: true, force: true, maxRetries: 3})
    } catch {
      // a folder still mounted by a sandbox: unmount lazily, then remove
      try {
        execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | xargs -r -n1 umount -l`])
        rmSync(dir, {recursive: true, force: true})
      } catch {}
    }
  }
}
