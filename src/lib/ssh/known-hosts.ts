/**
 * obsctl's own known_hosts (OpenSSH format): trust on first use, refuse a changed key.
 * Entries are `host keytype base64` or `[host]:port keytype base64` (port other than 22); hashed host
 * names (`|1|salt|hash`, as written by `ssh-keygen -H`) are matched too, so an existing file can be
 * passed with --known-hosts. New entries are appended with an atomic rewrite of the file.
 */
import {createHash, createHmac} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {ObsctlError} from '../errors.js'
import {writeFileAtomic} from '../fs.js'

export interface HostKey {
  type: string
  /** the key blob (SSH wire format) */
  key: Buffer
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

/** The host pattern OpenSSH writes: `host` for port 22, else `[host]:port`. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

function matchesHost(field: string, pattern: string): boolean {
  for (const name of field.split(',')) {
    if (name.startsWith('|1|')) {
      const [, , salt, hash] = name.split('|')
      if (!salt || !hash) continue
      const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(pattern).digest('base64')
      if (h === hash) return true
    } else if (name === pattern) return true
  }
  return false
}

/** Keys recorded for host:port (marker lines such as @revoked/@cert-authority are ignored). */
export function lookup(file: string, host: string, port: number): HostKey[] {
  if (!existsSync(file)) return []
  const pattern = hostPattern(host, port)
  const out: HostKey[] = []
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith('@')) continue
    const [hosts, type, b64] = line.split(/\s+/)
    if (!hosts || !type || !b64) continue
    if (matchesHost(hosts, pattern)) out.push({type, key: Buffer.from(b64, 'base64')})
  }
  return out
}

// Appends from concurrent connections are serialised in-process (a run is one process; .obsctl/lock
// stops a second run).
let appendChain: Promise<void> = Promise.resolve()

export function append(file: string, host: string, port: number, key: Buffer): Promise<void> {
  const next = appendChain.then(async () => {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : ''
    const line = `${hostPattern(host, port)} ${keyType(key)} ${key.toString('base64')}\n`
    await writeFileAtomic(file, before && !before.endsWith('\n') ? `${before}\n${line}` : before + line, {mode: 0o600})
  })
  appendChain = next.catch(() => undefined)
  return next
}

export type HostKeyDecision =
  | {status: 'known'; fingerprint: string}
  | {status: 'new'; fingerprint: string}
  | {status: 'changed'; fingerprint: string; known: string[]}

/** Compare a presented key with the file. */
export function check(file: string, host: string, port: number, key: Buffer): HostKeyDecision {
  const fp = fingerprint(key)
  const known = lookup(file, host, port)
  if (known.length === 0) return {status: 'new', fingerprint: fp}
  if (known.some((k) => k.key.equals(key))) return {status: 'known', fingerprint: fp}
  return {status: 'changed', fingerprint: fp, known: known.map((k) => `${k.type} ${fingerprint(k.key)}`)}
}

export function hostKeyChangedError(file: string, host: string, port: number, d: {fingerprint: string; known: string[]}): ObsctlError {
  return new ObsctlError(
    `host key of ${hostPattern(host, port)} has CHANGED: it presented ${d.fingerprint}, but ${file} records ${d.known.join(', ')}. ` +
      'Refusing to connect: this is what a man-in-the-middle looks like (or the machine was reinstalled).',
    {
      code: 'SSH_HOSTKEY_CHANGED',
      hints: [
        'verify the new fingerprint on the machine itself: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub',
        `if the change is expected, remove the old entry: ssh-keygen -R '${hostPattern(host, port)}' -f ${file}`,
      ],
      details: {host, port, presented: d.fingerprint, known: d.known, knownHostsFile: file},
    },
  )
}
