/**
 * The apt steps of the node scripts (src/lib/nodes/apt.ts) against this machine's real apt, not the node sandbox's
 * shim: while another apt-get update holds the package lists' lock, apt-get update fails at once with the message
 * apt_update looks for (and the shim prints), and apt_update waits until the other one ends. apt works in a folder
 * of the test's own (APT_CONFIG: lists and cache there); the apt holding the lock fetches from a loopback server
 * that answers only when the test lets it, and the waiting one has no source at all (no network).
 *
 * dpkg's own lock too: a real dpkg (`--set-selections`, reading its stdin) holds the frontend lock of an admin folder
 * of the test's own (Dir::State::status there, so apt locks that folder's lock-frontend, not the system's); apt-get
 * install fails at once naming it, as the shim does, and apt_install (-o DPkg::Lock::Timeout) waits for it.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {createServer, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {APT_FUNCTIONS} from '../../src/lib/nodes/apt.js'
import {tmpDir} from '../cli/helpers.js'
import {waitFor} from '../support/wait.js'

/** apt's environment with its folders in the test's own (an apt.conf written for APT_CONFIG), run as root, in English */
function aptEnv(file: string, dirs: Record<string, string>): NodeJS.ProcessEnv {
  writeFileSync(file, [...Object.entries(dirs).map(([k, v]) => `${k} "${v}";`), 'APT::Sandbox::User "root";', ''].join('\n'))
  return {...process.env, APT_CONFIG: file, LC_ALL: 'C'}
}

/** Whether some process holds a POSIX lock on `file` (/proc/locks: "… POSIX ADVISORY WRITE PID MAJ:MIN:INODE …"), without taking it. */
function frontendHeld(file: string): boolean {
  let ino: number
  try {
    ino = statSync(file).ino
  } catch {
    return false
  }
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .some((l) => / POSIX /.test(l) && new RegExp(`:${ino} `).test(l))
}

// apt's own message when the lists are locked (apt 2.x), and the line the sandbox's shim prints for it
const LISTS_LOCKED = /^E: Could not get lock \S*lists\/lock\. It is held by process \d+ \(apt-get\)$/m

describe('apt_update against the real apt', () => {
  const dir = tmpDir('obsctl-apt-')
  const lists = path.join(dir, 'lists')
  const held: ServerResponse[] = []
  let release = false
  const server = createServer((req, res) => {
    req.resume()
    if (release) res.writeHead(404).end()
    else held.push(res)
  })
  const config = (name: string, sources: string) => {
    for (const d of [path.join(lists, 'partial'), path.join(dir, name, 'archives', 'partial'), path.join(dir, name, 'parts')]) mkdirSync(d, {recursive: true})
    writeFileSync(path.join(dir, name, 'sources.list'), sources)
    return aptEnv(path.join(dir, name, 'apt.conf'), {
      'Dir::State::Lists': lists,
      'Dir::Cache': path.join(dir, name),
      'Dir::Etc::SourceList': path.join(dir, name, 'sources.list'),
      'Dir::Etc::SourceParts': path.join(dir, name, 'parts'),
    })
  }
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    release = true
    for (const r of held) r.writeHead(404).end()
    await new Promise((resolve) => server.close(resolve))
  })

  it('apt-get update fails at once on the lists lock with the message the shim prints; apt_update waits for the holder, then updates', async () => {
    expect(spawnSync('apt-get', ['--version']).status, 'apt-get (Debian) is needed: .ci/run runs on Debian').toBe(0)
    const port = (server.address() as AddressInfo).port
    const holderEnv = config('holder', `deb [trusted=yes] http://127.0.0.1:${port}/ ./\n`)
    const waiterEnv = config('waiter', '')

    // another apt: its update holds the lists' lock while its fetch waits on the server
    const holder = spawn('apt-get', ['update', '-q'], {env: holderEnv, stdio: 'ignore'})
    const holderDone = new Promise((resolve) => holder.on('close', resolve))
    try {
      await waitFor(() => held.length > 0 || holder.exitCode !== null, 120_000, "the other apt's first request")
      expect(holder.exitCode).toBeNull()

      // apt itself: fails at once, naming the lock
      const refused = spawnSync('apt-get', ['update', '-q'], {env: waiterEnv, encoding: 'utf8'})
      expect(refused.status).toBe(100)
      expect(refused.stderr).toMatch(LISTS_LOCKED)
      const shim = readFileSync(path.join(import.meta.dirname, '../support/node-sandbox/shim.sh'), 'utf8')
      expect(/echo '(E: Could not get lock \/var\/lib\/apt\/lists\/lock\.[^']*)'/.exec(shim)?.[1]).toMatch(LISTS_LOCKED)

      // apt_update: waits while the lock is what stops it
      const waiter = spawn('bash', ['-c', `set -eo pipefail\n${APT_FUNCTIONS}\napt_update`], {env: waiterEnv, stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      waiter.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      waiter.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
      const waited = new Promise<number | null>((resolve) => waiter.on('close', resolve))
      await waitFor(() => out.includes('waiting for another apt to release its lock') || waiter.exitCode !== null, 120_000, 'apt_update to wait')
      expect(waiter.exitCode, out).toBeNull()

      // the other apt ends (its server answers at last): apt_update's next try updates
      release = true
      for (const r of held.splice(0)) r.writeHead(404).end()
      expect(await waited, out).toBe(0)
      expect(out).toMatch(/Reading package lists/)
    } finally {
      release = true
      for (const r of held.splice(0)) r.writeHead(404).end()
      holder.kill()
      await holderDone
    }
  })
})

describe('apt_install against the real apt and dpkg', () => {
  const dir = tmpDir('obsctl-dpkg-')
  const admin = path.join(dir, 'admin')
  // apt 2.x: the line naming the frontend lock and its holder (the shim's holder is unattended-upgr)
  const FRONTEND_LOCKED = /^E: Could not get lock \S*\/lock-frontend\. It is held by process \d+ \(\S+\)$/m

  it("apt-get install fails at once on dpkg's frontend lock with the message the shim prints; apt_install waits for the holder, then goes on", async () => {
    expect(spawnSync('dpkg', ['--version']).status, 'dpkg (Debian) is needed: .ci/run runs on Debian').toBe(0)
    for (const d of ['updates', 'info', 'triggers']) mkdirSync(path.join(admin, d), {recursive: true})
    for (const f of ['status', 'available']) writeFileSync(path.join(admin, f), '')
    for (const d of ['lists/partial', 'cache/archives/partial', 'state', 'parts']) mkdirSync(path.join(dir, d), {recursive: true})
    writeFileSync(path.join(dir, 'sources.list'), '')
    const env = aptEnv(path.join(dir, 'apt.conf'), {
      'Dir::State::status': path.join(admin, 'status'),
      'Dir::State': path.join(dir, 'state'),
      'Dir::State::Lists': path.join(dir, 'lists'),
      'Dir::Cache': path.join(dir, 'cache'),
      'Dir::Etc::SourceList': path.join(dir, 'sources.list'),
      'Dir::Etc::SourceParts': path.join(dir, 'parts'),
    })
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'obsctl-no-such-package'], {env, encoding: 'utf8'})

    // a real dpkg holds the lock while it reads selections from its stdin (kept open by the test)
    const holder = spawn('dpkg', [`--admindir=${admin}`, '--set-selections'], {env, stdio: ['pipe', 'ignore', 'ignore']})
    const holderDone = new Promise((resolve) => holder.on('close', resolve))
    try {
      // until dpkg holds its lock, seen in /proc/locks (asking apt meanwhile would take the lock itself for an
      // instant: a dpkg starting then finds it held and exits 2, as it did under load)
      await waitFor(() => frontendHeld(path.join(admin, 'lock-frontend')) || holder.exitCode !== null, 120_000, 'dpkg to hold its lock')
      expect(holder.exitCode).toBeNull()
      // apt itself: fails at once, naming the lock
      const refused = install()
      expect(refused.status).toBe(100)
      expect(refused.stderr).toMatch(/It is held by process \d+ \(dpkg\)$/m)
      const shim = readFileSync(path.join(import.meta.dirname, '../support/node-sandbox/shim.sh'), 'utf8')
      expect(/echo '(E: Could not get lock \/var\/lib\/dpkg\/lock-frontend\.[^']*)'/.exec(shim)?.[1]).toMatch(FRONTEND_LOCKED)

      // apt_install: waits while dpkg holds it
      const waiter = spawn('bash', ['-c', `${APT_FUNCTIONS}\napt_install obsctl-no-such-package`], {env, stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      waiter.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      waiter.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
      const waited = new Promise<number | null>((resolve) => waiter.on('close', resolve))
      // (a stress run once timed out here, not seen again in six runs under load: what apt said and who held the lock
      // are in the failure, for the next time)
      await waitFor(
        () => /Waiting for cache lock: Could not get lock \S*\/lock-frontend/.test(out) || waiter.exitCode !== null,
        120_000,
        'apt_install to wait',
      ).catch((e: Error) => {
        const held = frontendHeld(path.join(admin, 'lock-frontend')) ? 'held' : 'not held'
        throw new Error(`${e.message}; apt_install said: ${JSON.stringify(out)}; dpkg exit ${holder.exitCode}; lock-frontend ${held}`)
      })
      expect(waiter.exitCode, out).toBeNull()

      // dpkg ends: apt_install goes on (and fails only because this folder knows no package)
      holder.stdin.end()
      await holderDone
      expect(await waited, out).toBe(100)
      expect(out).toMatch(/E: Unable to locate package obsctl-no-such-package/)
      expect(out).not.toMatch(/^E: Could not get lock/m)
    } finally {
      holder.stdin.destroy()
      holder.kill()
      await holderDone
    }
  })
})
