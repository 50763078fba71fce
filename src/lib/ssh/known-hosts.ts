/**
 * obsctl's own known_hosts, read as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 *
 *   [@revoked|@cert-authority] hostpatterns keytype base64-key [comment]
 *
 * - host patterns are comma-separated; `*` and `?` are wildcards, `!pattern` negates (a host matching a
 *   negated pattern is not matched by the line, whatever else matches); matching is case-insensitive;
 * - a host on a port other than 22 is written and matched as `[host]:port` (patterns too: `[*.lab]:2222`);
 * - hashed names `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` (ssh-keygen -H) are matched exactly;
 * - `@revoked`: that key is refused for the matching hosts, always — never trusted on first use, never
 *   appended, even if a plain line also lists it;
 * - `@cert-authority`: host certificates signed by that CA are to be accepted. obsctl's SSH library
 *   (ssh2 1.17: lib/protocol/constants.js offers ssh-ed25519, ecdsa-sha2-*, rsa-sha2-*, ssh-rsa, ssh-dss,
 *   no `*-cert-v01@openssh.com` algorithm) cannot negotiate host certificates, so a host covered only by
 *   a CA line is refused with that reason rather than trusted unverified.
 *
 * Policy (`ssh.hostKeyPolicy`): `accept-new` (default) trusts and appends an unknown key on first use;
 * `strict` refuses it. A changed key is refused under both. A new key is appended to the file, never rewriting it
 * (see append).
 */
import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import {closeSync, existsSync, fstatSync, openSync, readFileSync, readSync} from 'node:fs'
import {ObsctlError} from '../errors.js'
import {lockPathFor, withFileLock} from '../file-lock.js'
import {appendWholeSync, assertRegularFile} from '../fs.js'
import {hostPattern} from '../ssh-login.js'
import {shQuote, shWord} from '../shell-quote.js'

/** (./label.ts: the known_hosts host name is also how a node is named in messages) */
export {hostPattern}

export type HostKeyPolicy = 'accept-new' | 'strict'

export interface HostKey {
  type: string
  /** the key blob (SSH wire format) */
  key: Buffer
}

export interface KnownHostsEntry extends HostKey {
  marker?: 'revoked' | 'cert-authority'
  /** the host-pattern field as written */
  hosts: string
  /** 1-based line number in the file */
  line: number
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` and `ssh` print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown'
  const n = key.readUInt32BE(0)
  return key.subarray(4, 4 + n).toString('latin1')
}

/** OpenSSH match_pattern: `*` any run of characters, `?` exactly one (case-insensitive for host names). */
export function wildcardMatch(name: string, pattern: string): boolean {
  const s = name.toLowerCase()
  const p = pattern.toLowerCase()
  // iterative glob with backtracking on the last `*`
  let si = 0
  let pi = 0
  let star = -1
  let mark = 0
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      si++
      pi++
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++
      mark = si
    } else if (star >= 0) {
      pi = star + 1
      si = ++mark
    } else return false
  }
  while (pi < p.length && p[pi] === '*') pi++
  return pi === p.length
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|')
  if (!salt || !hash) return false
  const want = Buffer.from(hash, 'base64')
  const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest()
  return want.length === got.length && timingSafeEqual(want, got)
}

/**
 * Does a host-pattern field match `name` (`host` or `[host]:port`)? As OpenSSH match_hostname: a
 * negated pattern that matches rejects the line; otherwise any positive match accepts it.
 */
export function hostsFieldMatches(field: string, name: string): boolean {
  let matched = false
  for (const raw of field.split(',')) {
    if (!raw) continue
    if (raw.startsWith('|1|')) {
      if (hashedMatch(raw, name)) matched = true
      continue
    }
    const negated = raw.startsWith('!')
    const pattern = negated ? raw.slice(1) : raw
    if (wildcardMatch(name, pattern)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

/** Every usable line of a known_hosts file (comments, blank and malformed lines skipped). */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const fields = line.split(/\s+/)
    let marker: KnownHostsEntry['marker']
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!
      if (m === '@revoked') marker = 'revoked'
      else if (m === '@cert-authority') marker = 'cert-authority'
      else return // an unknown marker: OpenSSH skips the line
    }
    const [hosts, type, b64] = fields
    if (!hosts || !type || !b64) return
    out.push({marker, hosts, type, key: Buffer.from(b64, 'base64'), line: i + 1})
  })
  return out
}

function readEntries(file: string): KnownHostsEntry[] {
  if (!existsSync(file)) return []
  return parseKnownHosts(readFileSync(file, 'utf8'))
}

/** The lines of `file` that apply to host:port. */
export function entriesFor(file: string, host: string, port: number): KnownHostsEntry[] {
  const name = hostPattern(host, port)
  return readEntries(file).filter((e) => hostsFieldMatches(e.hosts, name))
}

/** Plain (unmarked) keys recorded for host:port: the keys that may be accepted. */
export function lookup(file: string, host: string, port: number): HostKey[] {
  return entriesFor(file, host, port).filter((e) => !e.marker)
}

// Appends from concurrent connections of one process are serialised here; between processes (two inventories
// sharing ~/.ssh/known_hosts, two runs) by the lock file `<file>.lock` (../file-lock.ts).
let appendChain: Promise<void> = Promise.resolve()

/**
 * Add the line for host:port's key to the end of `file`, as OpenSSH does (hostfile.c add_host_to_hostfile: the
 * file opened for append, a newline first when the last line has none): the file is never rewritten, so a line
 * another process adds at the same time is never lost — another obsctl, or ssh itself, which appends without any
 * lock. Between obsctl processes the append is made holding `<file>.lock`, and the file is checked again under it:
 * a key revoked meanwhile is never written (SSH_HOSTKEY_REVOKED), a different key another process recorded for the
 * host meanwhile makes this one a changed key (SSH_HOSTKEY_CHANGED: two first connections must not trust two
 * different keys), and the same key recorded meanwhile is not written twice.
 *
 * The line goes in one write(2) on a descriptor opened with O_APPEND, which the kernel places at the end of the
 * file whatever others write. A new file is created 0600; an existing one keeps its mode (a user's
 * ~/.ssh/known_hosts stays as OpenSSH made it). On a full disk the line is written whole or not at all: the bytes a
 * short write(2) left are cut off again, and the file is as it was (a line cut inside its key would read as another
 * key for the host: the next connection refused as a CHANGED key). Only a crash in the middle of the write can still
 * leave a partial last line; the next append ends it with a newline first.
 */
export function append(file: string, host: string, port: number, key: Buffer): Promise<void> {
  const next = appendChain.then(() =>
    withFileLock(lockPathFor(file), () => {
      const d = check(file, host, port, key)
      if (d.status === 'revoked') throw revokedError(file, host, port, d.fingerprint, keyType(key), d.line)
      if (d.status === 'changed') throw hostKeyChangedError(file, host, port, d)
      if (d.status === 'known') return
      appendLine(file, `${hostPattern(host, port)} ${keyType(key)} ${key.toString('base64')}\n`)
    }),
  )
  appendChain = next.catch(() => undefined)
  return next
}

function appendLine(file: string, line: string): void {
  assertRegularFile(file)
  // O_RDWR|O_CREAT|O_APPEND: read the last byte, write at the end
  const fd = openSync(file, 'a+', 0o600)
  try {
    const size = fstatSync(fd).size
    let data = line
    if (size > 0) {
      const last = Buffer.alloc(1)
      readSync(fd, last, 0, 1, size - 1)
      if (last[0] !== 0x0a) data = `\n${line}`
    }
    // whole or not at all (../fs.ts appendWholeSync): a line cut inside its key would be a different key for the host
    appendWholeSync(fd, Buffer.from(data), file)
  } finally {
    closeSync(fd)
  }
}

export type HostKeyDecision =
  | {status: 'known'; fingerprint: string}
  | {status: 'new'; fingerprint: string}
  | {status: 'changed'; fingerprint: string; known: string[]}
  | {status: 'revoked'; fingerprint: string; line: number}
  /** only @cert-authority lines cover this host: a host certificate would be needed */
  | {status: 'cert-authority'; fingerprint: string; lines: number[]}

/** Compare a presented key with the file (revoked first, as OpenSSH does). */
export function check(file: string, host: string, port: number, key: Buffer): HostKeyDecision {
  const fp = fingerprint(key)
  const entries = entriesFor(file, host, port)
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key))
  if (revoked) return {status: 'revoked', fingerprint: fp, line: revoked.line}
  const known = entries.filter((e) => !e.marker)
  if (known.some((k) => k.key.equals(key))) return {status: 'known', fingerprint: fp}
  if (known.length > 0) return {status: 'changed', fingerprint: fp, known: known.map((k) => `${k.type} ${fingerprint(k.key)}`)}
  const cas = entries.filter((e) => e.marker === 'cert-authority')
  if (cas.length > 0) return {status: 'cert-authority', fingerprint: fp, lines: cas.map((e) => e.line)}
  return {status: 'new', fingerprint: fp}
}

/** The refusal for a decision under a policy, or undefined when the key may be used (known, or new under accept-new). */
export function refusal(file: string, host: string, port: number, key: Buffer, d: HostKeyDecision, policy: HostKeyPolicy): ObsctlError | undefined {
  switch (d.status) {
    case 'known':
      return undefined
    case 'new':
      return policy === 'strict' ? unknownKeyError(file, host, port, d.fingerprint, keyType(key)) : undefined
    case 'changed':
      return hostKeyChangedError(file, host, port, d)
    case 'revoked':
      return revokedError(file, host, port, d.fingerprint, keyType(key), d.line)
    case 'cert-authority':
      return certAuthorityError(file, host, port, d.fingerprint, keyType(key), d.lines)
  }
}

export function hostKeyChangedError(file: string, host: string, port: number, d: {fingerprint: string; known: string[]}): ObsctlError {
  return new ObsctlError(
    `host key of ${hostPattern(host, port)} has CHANGED: it presented ${d.fingerprint}, but ${file} records ${d.known.join(', ')}. ` +
      'Refusing to connect: this is what a man-in-the-middle looks like (or the machine was reinstalled).',
    {
      code: 'SSH_HOSTKEY_CHANGED',
      hints: [
        'verify the new fingerprint on the machine itself: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub',
        `if the change is expected, remove the old entry: ssh-keygen -R ${shQuote(hostPattern(host, port))} -f ${shWord(file)}`,
      ],
      details: {host, port, presented: d.fingerprint, known: d.known, knownHostsFile: file},
    },
  )
}

export function revokedError(file: string, host: string, port: number, fp: string, type: string, line?: number): ObsctlError {
  return new ObsctlError(
    `host key of ${hostPattern(host, port)} is REVOKED: it presented ${type} ${fp}, which ${file}${line ? `:${line}` : ''} marks @revoked. Refusing to connect.`,
    {
      code: 'SSH_HOSTKEY_REVOKED',
      hints: [
        'the machine needs a new host key (the revoked one may be in someone else’s hands): regenerate it there (ssh-keygen -A after removing the old key), then verify and trust the new one',
      ],
      details: {host, port, presented: fp, knownHostsFile: file, line},
    },
  )
}

export function unknownKeyError(file: string, host: string, port: number, fp: string, type: string): ObsctlError {
  return new ObsctlError(
    `host key of ${hostPattern(host, port)} is not in ${file} (it presented ${type} ${fp}), and ssh.hostKeyPolicy is strict: refusing an unknown key.`,
    {
      code: 'SSH_HOSTKEY_UNKNOWN',
      hints: [
        `check the fingerprint on the machine (ssh-keygen -lf /etc/ssh/ssh_host_${type === 'ssh-ed25519' ? 'ed25519' : type.startsWith('ecdsa') ? 'ecdsa' : 'rsa'}_key.pub), then add its line: ssh-keyscan -p ${port} -t ${shWord(type)} ${shWord(host)} >> ${shWord(file)}`,
        'or set ssh.hostKeyPolicy: accept-new to trust a new key on first use',
      ],
      details: {host, port, presented: fp, knownHostsFile: file},
    },
  )
}

export function certAuthorityError(file: string, host: string, port: number, fp: string, type: string, lines: number[]): ObsctlError {
  return new ObsctlError(
    `${hostPattern(host, port)} is covered only by @cert-authority (${lines.map((l) => `${file}:${l}`).join(', ')}), but obsctl's SSH library cannot negotiate host certificates, ` +
      `so the plain key it presented (${type} ${fp}) cannot be checked against the CA. Refusing rather than trusting it unverified.`,
    {
      code: 'SSH_HOSTKEY_CERT_UNSUPPORTED',
      hints: [
        `add the host's plain key to ${file} after checking its fingerprint on the machine: ssh-keyscan -p ${port} -t ${shWord(type)} ${shWord(host)} >> ${shWord(file)}`,
      ],
      details: {host, port, presented: fp, knownHostsFile: file, lines},
    },
  )
}
