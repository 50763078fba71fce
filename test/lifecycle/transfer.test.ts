/**
 * The root-owned files `backup create` copies from a node and `backup restore` puts on it (fetchRootFile /
 * pushRootFile, src/lib/lifecycle/etcd-node.ts) go through a transfer file, in the login user's home when that user is
 * not root. Two runs at once on one node (a backup and a restore of the same id, two backups) must not share it: each
 * transfer gets its own bytes, the transfer files are 0600 and the login user's (an etcd snapshot is never readable by
 * anyone else), and none is left behind, also when the transfer fails.
 *
 * Real sshd (the node sandbox, ../support/sshd.ts) with a login user that is not root and Debian's real sudo
 * (addLoginUser). The two transfers are lined up, not raced: each connection is wrapped so that a transfer reads its
 * transfer file (the download of a fetch; the root step that places a push) only once the other transfer has written
 * its own (a fetch: its root step; a push: its upload) — the order in which a shared name loses one of the two.
 * A transfer whose connection dies (its sshd process on the node killed) with the snapshot in its transfer file leaves
 * that file; the next sweep on the node (../../src/lib/nodes/leftovers.ts, run by backup create and restore) removes
 * it, and nothing a live transfer uses or that is not exactly such a file of the login user's; the same for an
 * upload's temporary file (node install's in ~/.obsctl, a restore's copy as root).
 */
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {claimSnapshotDir, fetchRootFile, pushRootFile} from '../../src/lib/lifecycle/etcd-node.js'
import {sweepLeftovers} from '../../src/lib/nodes/leftovers.js'
import type {SshConnection} from '../../src/lib/ssh/index.js'
import {connectNode, startSandbox, type Sandbox, type SandboxNode} from '../support/sshd.js'
import {onNode, writeBytes} from './helpers.js'
import {waitFor} from '../support/wait.js'

let sb: Sandbox
let node: SandboxNode
let home: string
let known: string
const conns: SshConnection[] = []

async function connect(user: string): Promise<SshConnection> {
  const c = await connectNode(sb, node, {user, knownHostsFile: path.join(known, 'known_hosts')})
  conns.push(c)
  return c
}

beforeAll(async () => {
  sb = await startSandbox(1, {firstIp: 245})
  node = sb.nodes[0]!
  home = node.addLoginUser('ops').home
  known = mkdtempSync(path.join(os.tmpdir(), 'obsctl-transfer-'))
}, 120_000)

afterAll(async () => {
  for (const c of conns) c.close()
  await sb?.stop()
  if (known) rmSync(known, {recursive: true, force: true})
})

/** The transfer files in the login user's home, as `MODE OWNER NAME`. */
const transferFiles = () =>
  onNode(node, `cd ${home} && for f in .obsctl-transfer*; do [ -e "$f" ] && stat -c '%a %U %n' "$f"; done; true`).split('\n').filter(Boolean)

interface Gate {
  written: () => void
  otherWritten: Promise<void>
}

/** Two gates: each transfer's `written` releases the other's reads. */
function gates(): [Gate, Gate] {
  let a!: () => void
  let b!: () => void
  const pa = new Promise<void>((r) => (a = r))
  const pb = new Promise<void>((r) => (b = r))
  return [
    {written: a, otherWritten: pb},
    {written: b, otherWritten: pa},
  ]
}

/** What each held read saw of the transfer files at the moment it was let go. */
const seen: string[][] = []

/**
 * CONN for one transfer of KIND, lined up by GATE: a fetch's root step writes its transfer file, and its download
 * waits for the other transfer's write; a push's upload writes it, and its root steps after that wait.
 */
function lined(conn: SshConnection, kind: 'fetch' | 'push', gate: Gate): SshConnection {
  let wrote = false
  const read = async () => {
    await gate.otherWritten
    seen.push(transferFiles())
  }
  return new Proxy(conn, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown
      if (typeof v !== 'function') return v
      const f = (v as (...a: unknown[]) => Promise<unknown>).bind(target)
      if (kind === 'fetch' && prop === 'sudo')
        return async (...a: unknown[]) => {
          const r = await f(...a)
          gate.written()
          return r
        }
      if (kind === 'fetch' && prop === 'download')
        return async (...a: unknown[]) => {
          await read()
          return f(...a)
        }
      if (kind === 'push' && (prop === 'upload' || prop === 'writeNew'))
        return async (...a: unknown[]) => {
          const r = await f(...a)
          wrote = true
          gate.written()
          return r
        }
      if (kind === 'push' && prop === 'sudo')
        return async (...a: unknown[]) => {
          if (wrote) await read()
          return f(...a)
        }
      return f
    },
  })
}

const bytes = (tag: string) => Buffer.concat([Buffer.from(`${tag}\n`), randomBytes(48 * 1024)])
const modeOwner = (p: string) => onNode(node, `stat -c '%a %U' ${p}`).trim()
const onNodeBytes = (p: string) => Buffer.from(onNode(node, `base64 -w0 ${p}`), 'base64')

describe('two transfers at once on one node, as a login user that is not root', () => {
  it('a backup fetching and a restore pushing files of one name: each gets its own bytes, nothing is left', async () => {
    const snapshot = bytes('snapshot taken by the backup')
    const restored = bytes('snapshot the restore puts back')
    writeBytes(node, '/var/lib/obsctl/backup/20260101T000000Z-cluster-01.db', snapshot)
    const [ga, gb] = gates()
    seen.length = 0
    const [got] = await Promise.all([
      fetchRootFile(lined(await connect('ops'), 'fetch', ga), '/var/lib/obsctl/backup/20260101T000000Z-cluster-01.db'),
      pushRootFile(lined(await connect('ops'), 'push', gb), '/var/lib/obsctl/restore/20260101T000000Z-cluster-01.db', restored),
    ])
    expect(got.equals(snapshot)).toBe(true)
    expect(onNodeBytes('/var/lib/obsctl/restore/20260101T000000Z-cluster-01.db').equals(restored)).toBe(true)
    expect(modeOwner('/var/lib/obsctl/restore/20260101T000000Z-cluster-01.db')).toBe('600 root')
    // while both were there, each had its own transfer file, the login user's and 0600
    const files = [...new Set(seen.flat())]
    expect(files).toHaveLength(2)
    for (const f of files) expect(f).toMatch(/^600 ops \.obsctl-transfer-\d+\.\d+-[0-9a-f]{16}-20260101T000000Z-cluster-01\.db$/)
    expect(transferFiles()).toEqual([])
    expect(node.list('/var/lib/obsctl/restore')).toEqual(['20260101T000000Z-cluster-01.db'])
  })

  it('two fetches of files of one name at once: each gets its own bytes, nothing is left', async () => {
    const one = bytes('cluster-01 of one backup')
    const two = bytes('cluster-01 of another')
    writeBytes(node, '/var/lib/obsctl/backup/a/x.db', one)
    writeBytes(node, '/var/lib/obsctl/backup/b/x.db', two)
    const [ga, gb] = gates()
    const [got1, got2] = await Promise.all([
      fetchRootFile(lined(await connect('ops'), 'fetch', ga), '/var/lib/obsctl/backup/a/x.db'),
      fetchRootFile(lined(await connect('ops'), 'fetch', gb), '/var/lib/obsctl/backup/b/x.db'),
    ])
    expect(got1.equals(one)).toBe(true)
    expect(got2.equals(two)).toBe(true)
    expect(transferFiles()).toEqual([])
  })

  it('two pushes of files of one name at once: each placed with its own bytes, root-only, nothing is left', async () => {
    const one = bytes('first restore')
    const two = bytes('second restore')
    const [ga, gb] = gates()
    await Promise.all([
      pushRootFile(lined(await connect('ops'), 'push', ga), '/var/lib/obsctl/restore/a/x.db', one),
      pushRootFile(lined(await connect('ops'), 'push', gb), '/var/lib/obsctl/restore/b/x.db', two),
    ])
    expect(onNodeBytes('/var/lib/obsctl/restore/a/x.db').equals(one)).toBe(true)
    expect(onNodeBytes('/var/lib/obsctl/restore/b/x.db').equals(two)).toBe(true)
    expect([modeOwner('/var/lib/obsctl/restore/a/x.db'), modeOwner('/var/lib/obsctl/restore/a')]).toEqual(['600 root', '700 root'])
    expect(transferFiles()).toEqual([])
    expect([node.list('/var/lib/obsctl/restore/a'), node.list('/var/lib/obsctl/restore/b')]).toEqual([['x.db'], ['x.db']])
  })

  it('a transfer file is created, never taken over: a name that is there is refused and left as it was', async () => {
    writeBytes(node, `${home}/.obsctl-transfer-taken`, Buffer.from('not obsctl\n'))
    const ops = await connect('ops')
    await expect(ops.writeNew(`${home}/.obsctl-transfer-taken`, 'snapshot bytes')).rejects.toMatchObject({code: 'SSH_UPLOAD'})
    expect(onNode(node, `cat ${home}/.obsctl-transfer-taken && rm ${home}/.obsctl-transfer-taken`)).toBe('not obsctl\n')
  })

  it('a fetch that fails (no such file) leaves no transfer file', async () => {
    await expect(fetchRootFile(await connect('ops'), '/var/lib/obsctl/backup/none.db')).rejects.toThrow(/none\.db/)
    expect(transferFiles()).toEqual([])
  })
})

describe('transfer files an interrupted run left', () => {
  it('the connection dies with the snapshot in its transfer file: the next sweep on the node removes that file, and only files no live transfer can be using', async () => {
    for (const n of ['left', 'live', 'next']) writeBytes(node, `/var/lib/obsctl/backup/${n}.db`, bytes(`${n} snapshot`))
    // 1. a live transfer, held before it reads its transfer file (a later transfer must leave that file alone)
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let liveName = ''
    const liveConn = await connect('ops')
    const held = new Proxy(liveConn, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown
        if (prop !== 'download') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        return async (p: string) => {
          liveName = path.posix.basename(p)
          await released
          return target.download(p)
        }
      },
    })
    const live = fetchRootFile(held, '/var/lib/obsctl/backup/live.db')
    await waitFor(() => liveName !== '', 30_000, 'the live transfer holds its file')

    // 2. a run whose connection dies (from the node's side: its sshd process ends) once root has copied the snapshot
    // into its transfer file, before it could read and remove it
    const dying = await connect('ops')
    // its sshd process on the node (the login shell's parent)
    const pid = (await dying.exec('echo $PPID')).stdout.trim()
    let leftName = ''
    const dies = new Proxy(dying, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown
        if (prop !== 'download') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        return async (p: string) => {
          leftName = path.posix.basename(p)
          onNode(node, `kill -9 ${pid}`)
          await waitFor(
            () => target.isClosed && !onNode(node, `[ -e /proc/${pid} ] && echo alive; true`).includes('alive'),
            30_000,
            'the connection ended',
            100,
          )
          return target.download(p)
        }
      },
    })
    await expect(fetchRootFile(dies, '/var/lib/obsctl/backup/left.db')).rejects.toThrow()
    expect(transferFiles().sort()).toEqual([`600 ops ${leftName}`, `600 ops ${liveName}`].sort())
    expect(leftName).toMatch(new RegExp(`^\\.obsctl-transfer-${pid}\\.\\d+-`))

    // 3. what is not a transfer file of this user that no live transfer uses: another owner's, a symlink, another
    // name; and two without a connection in their name (an earlier obsctl's): one two days old, one an hour old
    const keep = [
      '.obsctl-transfer-1.1-0123456789abcdef-root.db',
      '.obsctl-transfer-2.2-0123456789abcdef-link.db',
      '.obsctl-transfer-notes',
      '.obsctl-transfer-fedcba9876543210-recent.db',
    ]
    onNode(
      node,
      [
        `cd ${home}`,
        `echo root > ${keep[0]}`,
        `ln -s /var/lib/obsctl/backup/next.db ${keep[1]} && chown -h ops: ${keep[1]}`,
        `echo notes > ${keep[2]} && chown ops: ${keep[2]}`,
        `echo recent > ${keep[3]} && chown ops: ${keep[3]} && touch -d '1 hour ago' ${keep[3]}`,
        `echo old > .obsctl-transfer-0123456789abcdef-old.db && chown ops: .obsctl-transfer-0123456789abcdef-old.db && touch -d '2 days ago' .obsctl-transfer-0123456789abcdef-old.db`,
      ].join(' && '),
    )

    // 4. the next sweep on the node (backup create and backup restore run it before they copy anything)
    const removed = await sweepLeftovers(await connect('ops'))
    expect(removed.map((l) => l.path).sort()).toEqual([`${home}/${leftName}`, `${home}/.obsctl-transfer-0123456789abcdef-old.db`].sort())
    const next = await fetchRootFile(await connect('ops'), '/var/lib/obsctl/backup/next.db')
    expect(next.subarray(0, 14).toString()).toBe('next snapshot\n')
    const names = transferFiles().map((l) => l.split(' ')[2])
    expect(names.sort()).toEqual([...keep, liveName].sort())
    // the symlink's target is untouched
    expect(onNode(node, 'head -1 /var/lib/obsctl/backup/next.db')).toBe('next snapshot\n')

    // 5. the live transfer finishes with its own bytes and removes its file
    release()
    expect((await live).subarray(0, 14).toString()).toBe('live snapshot\n')
    expect(transferFiles().map((l) => l.split(' ')[2])).not.toContain(liveName)
    onNode(node, `cd ${home} && rm -f ${keep.join(' ')}`)
    expect(transferFiles()).toEqual([])
  })
})

describe('a root copy that runs after its transfer file was swept', () => {
  it('fails, naming the missing file: it creates no file of root’s in the login user’s home', async () => {
    writeBytes(node, '/var/lib/obsctl/backup/late.db', bytes('late snapshot'))
    // a killed run's root copy that starts only once the next run's sweep has removed the run's transfer file (its
    // connection is gone): the file is removed between its creation and the root step that fills it; and the run,
    // killed, removes nothing after
    let swept = ''
    const conn = await connect('ops')
    const late = new Proxy(conn, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown
        if (prop === 'remove') return async () => {}
        if (prop !== 'sudo') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        return async (...a: Parameters<SshConnection['sudo']>) => {
          swept = transferFiles().join('\n')
          onNode(node, `rm -- ${home}/.obsctl-transfer-*`)
          return target.sudo(...a)
        }
      },
    })
    const outcome = await fetchRootFile(late, '/var/lib/obsctl/backup/late.db').then(
      () => 'fetched',
      (e: Error) => e.message,
    )
    expect(swept).toMatch(/^600 ops \.obsctl-transfer-\S+-late\.db$/)
    expect(transferFiles()).toEqual([])
    expect(outcome).toMatch(
      /^copying \/var\/lib\/obsctl\/backup\/late\.db for transfer failed on .*: .*\.obsctl-transfer-\S+-late\.db.*No such file or directory/,
    )
    onNode(node, 'rm /var/lib/obsctl/backup/late.db')
  })
})

describe('upload files a killed run left', () => {
  /** a connection of USER that has ended (its sshd process on the node gone), and the session it had */
  async function endedSession(user: string): Promise<string> {
    const c = await connect(user)
    const session = (await c.session())!
    expect(session).toMatch(/^\d+\.\d+$/)
    c.close()
    const [pid, start] = session.split('.')
    await waitFor(() => onNode(node, `awk '{print $22}' /proc/${pid}/stat 2>/dev/null; true`).trim() !== start, 60_000, 'the connection to end')
    return session
  }
  const hex16 = () => randomBytes(8).toString('hex')

  it('node install’s in ~/.obsctl and a restore’s copy as root: node preflight lists exactly what the sweep removes — only obsctl’s names, only ended runs, never a symlink or another owner’s file', async () => {
    const dead = await endedSession('ops')
    const rootDead = await endedSession('root')
    const live = await connect('ops')
    const liveSession = (await live.session())!
    const obsctlDir = `${home}/.obsctl`
    const R = '/var/lib/obsctl/restore'
    const gone = [
      `${obsctlDir}/.obsctl-upload-${dead}-${hex16()}-install-k8s.sh`,
      `${obsctlDir}/.obsctl-upload-${hex16()}-kubeadm-join-0a0b0c0d0e0f.yaml`,
      `${obsctlDir}/.install-k8s.sh.0123456789ab.part`,
      `${R}/.obsctl-upload-${rootDead}-${hex16()}-20260301T000000Z-0a0b0c-cluster-01.db`,
      `${R}/.20260301T000000Z-cluster-01.db.0123456789ab.part`,
    ]
    const kept = [
      // a live connection's, an ops file in root's folder, root's file in the login user's, a symlink, other names, new ones
      `${obsctlDir}/.obsctl-upload-${liveSession}-${hex16()}-install-k8s.sh`,
      `${R}/.obsctl-upload-${dead}-${hex16()}-20260302T000000Z-cluster-01.db`,
      `${obsctlDir}/.obsctl-upload-${dead}-${hex16()}-root.sh`,
      `${obsctlDir}/.obsctl-upload-${dead}-${hex16()}-link.sh`,
      `${R}/.obsctl-upload-${rootDead}-${hex16()}-link.db`,
      `${obsctlDir}/.obsctl-upload-notes`,
      `${obsctlDir}/.obsctl-upload-${hex16()}-recent.sh`,
      `${obsctlDir}/.recent.sh.0123456789ab.part`,
      `${obsctlDir}/install-k8s.sh`,
    ]
    onNode(
      node,
      [
        `install -d -m 700 -o ops -g ops ${obsctlDir} && install -d -m 700 ${R}`,
        ...[gone[0], gone[1], gone[2], kept[0], kept[5], kept[6], kept[7], kept[8]].map((f) => `echo upload > ${f} && chown ops: ${f}`),
        `echo plaintext snapshot > ${gone[3]} && echo plaintext snapshot > ${gone[4]}`,
        `echo ops > ${kept[1]} && chown ops: ${kept[1]}`,
        `echo root > ${kept[2]}`,
        `ln -s ${obsctlDir}/install-k8s.sh ${kept[3]} && chown -h ops: ${kept[3]}`,
        `ln -s /etc/hostname ${kept[4]}`,
        `touch -d '2 days ago' ${gone[1]} ${gone[2]} ${gone[4]} ${kept[4]}`,
        `touch -d '1 hour ago' ${kept[6]} ${kept[7]}`,
      ].join(' && '),
    )
    const listing = () => onNode(node, `ls -A ${obsctlDir} ${R}`)
    const before = listing()

    // node preflight's probe lists them and touches nothing
    const {probeSudo} = await import('../../src/lib/nodes/preflight.js')
    const probe = await probeSudo(live)
    expect(probe.ok).toBe(true)
    const found = probe.ok ? probe.leftovers : []
    expect(found.map((l) => l.path).sort()).toEqual([...gone].sort())
    for (const l of found) expect(l.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(listing()).toBe(before)

    // the sweep removes exactly those
    const removed = await sweepLeftovers(live)
    expect(removed.map((l) => l.path).sort()).toEqual([...gone].sort())
    for (const f of gone) expect(onNode(node, `[ -e ${f} ] && echo there || echo gone`).trim(), f).toBe('gone')
    for (const f of kept) expect(onNode(node, `[ -e ${f} ] || [ -h ${f} ] && echo there || echo gone`).trim(), f).toBe('there')
    // a symlink's target is untouched
    expect(onNode(node, `cat ${obsctlDir}/install-k8s.sh`)).toBe('upload\n')
    onNode(node, `rm -f ${kept.join(' ')}`)
  })
})

describe('a backup’s snapshot folder, as a login user that is not root', () => {
  it('its marker names the connection’s sshd process through sudo: a later claim keeps the folder while that connection lasts and removes it after', async () => {
    const a = await connect('ops')
    const first = await claimSnapshotDir(a, '20260201T000000Z-0a0b0c', 'run-a')
    expect(modeOwner(first.dir)).toBe('700 root')
    const [, pid, start] = /^session=(\d+)\.(\d+)$/m.exec(onNode(node, `cat ${first.dir}/.obsctl-run`)) ?? []
    // the login user's sshd process of that connection (sudo and the shells between are not it)
    expect(onNode(node, `stat -c %U /proc/${pid}; cat /proc/${pid}/comm`)).toMatch(/^ops\nsshd/)
    const b = await connect('ops')
    const second = await claimSnapshotDir(b, '20260201T000000Z-0d0e0f', 'run-b')
    expect(second.removed).toEqual([])
    a.close()
    await waitFor(() => onNode(node, `awk '{print $22}' /proc/${pid}/stat 2>/dev/null; true`).trim() !== start, 60_000, 'the first connection to end')
    const third = await claimSnapshotDir(b, '20260201T000000Z-101112', 'run-b')
    expect(third.removed).toEqual([{path: first.dir, run: 'run-a', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)}])
    expect(
      node
        .list('/var/lib/obsctl/backup')
        .filter((n) => n.startsWith('20260201T'))
        .sort(),
    ).toEqual(['20260201T000000Z-0d0e0f', '20260201T000000Z-101112'])
    onNode(node, 'rm -r /var/lib/obsctl/backup/20260201T*')
  })
})

describe('as root', () => {
  it('a push and a fetch: the bytes as they were, root-only, no temporary file beside them', async () => {
    const data = bytes('restored as root')
    const root = await connect('root')
    await pushRootFile(root, '/var/lib/obsctl/restore/r/x.db', data)
    expect((await fetchRootFile(root, '/var/lib/obsctl/restore/r/x.db')).equals(data)).toBe(true)
    expect(modeOwner('/var/lib/obsctl/restore/r/x.db')).toBe('600 root')
    expect(node.list('/var/lib/obsctl/restore/r')).toEqual(['x.db'])
  })
})
