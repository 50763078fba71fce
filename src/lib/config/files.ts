/**
 * The files the run will read from this workstation, checked up front (`config validate`, bootstrap and
 * its dry run) instead of in a late phase: ssh.identityFile (the nodes phase), git.sshKeyFile (root-app),
 * s3.caFile (buckets, secrets) and ssh.knownHosts (every SSH connection, which appends new host keys to it). Paths resolve exactly as their consumers resolve them.
 */
import {readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fsReason} from '../errors.js'
import type {FieldPath, LoadedInventory} from './load.js'
import {obsctlDir} from './model.js'

export interface FileFinding {
  id: string
  at: FieldPath
  message: string
  fix: string
}

/** `~/x` as the SSH pool expands it (ssh.identityFile, ssh.knownHosts). */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}

/**
 * The known_hosts file a run reads and appends to, the one rule every reader follows (the SSH pool, `backup create`'s
 * copy of it, the up-front checks): a `--known-hosts` flag resolves from the working directory, as a path typed in a
 * shell means (`obsctl -c ../site/obsctl.yaml node preflight --known-hosts ./kh` is ./kh here); the inventory's
 * `ssh.knownHosts` from the inventory's folder, as its other paths; else `.obsctl/known_hosts` beside the inventory.
 * `~/` is the home folder in both.
 */
export function knownHostsPath(inventoryDir: string, field: string | undefined, flag?: string): string {
  if (flag) return path.resolve(expandHome(flag))
  return field ? path.resolve(inventoryDir, expandHome(field)) : path.join(obsctlDir(inventoryDir), 'known_hosts')
}

const PUBLIC_KEY = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA/

function readSmall(file: string): {text?: string; problem?: string} {
  try {
    const st = statSync(file)
    if (st.isDirectory()) return {problem: 'it is a directory, not a file'}
    if (st.size > 1024 * 1024) return {problem: `it is ${st.size} bytes: too big for a key or a certificate bundle`}
    return {text: readFileSync(file, 'utf8')}
  } catch (error) {
    return {problem: fsReason(error)}
  }
}

/** What is wrong with a private key file, or undefined (a passphrase-protected key is fine: obsctl asks for it). */
function privateKeyProblem(file: string): {message: string; fix: string} | undefined {
  const {text, problem} = readSmall(file)
  if (problem) return {message: `${file}: ${problem}`, fix: 'point it at a private key file you can read'}
  const t = text!.trim()
  if (PUBLIC_KEY.test(t) || t.startsWith('---- BEGIN SSH2 PUBLIC KEY') || /-----BEGIN (RSA )?PUBLIC KEY-----/.test(t)) {
    const priv = file.endsWith('.pub') ? file.slice(0, -4) : undefined
    return {
      message: `${file} is a public key; obsctl needs the private key to log in`,
      fix: priv ? `use the private half: ${priv}` : 'use the private half of the key pair (the file without .pub)',
    }
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(t))
    return {message: `${file} is not a PEM or OpenSSH private key`, fix: 'point it at a private key (-----BEGIN OPENSSH PRIVATE KEY-----)'}
  return undefined
}

/**
 * What is wrong with a PEM CA bundle, or undefined. `parse: false` asks only what the bundle's readers ask (a readable
 * file with a certificate block), for a flag checked before the command that reads it (../cli/file-flags.ts).
 */
export function caProblem(file: string, o: {parse?: boolean} = {}): {message: string; fix: string} | undefined {
  const {text, problem} = readSmall(file)
  if (problem) return {message: `${file}: ${problem}`, fix: 'point it at a PEM CA bundle you can read'}
  const blocks = text!.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0)
    return {message: `${file} holds no PEM certificate`, fix: 'use a PEM bundle (-----BEGIN CERTIFICATE-----) with the CA that signed the server certificate'}
  if (o.parse === false) return undefined
  // node:crypto (~1.5–3 ms to load) only when there is a CA bundle to check: `config validate` loads this module
  const {X509Certificate} = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  for (const [k, b] of blocks.entries()) {
    try {
      new X509Certificate(b)
    } catch {
      return {
        message: `${file}: certificate ${k + 1} of ${blocks.length} cannot be parsed`,
        fix: 'replace the bundle with a valid PEM copy of the CA certificate',
      }
    }
  }
  return undefined
}

/** A known_hosts line: [marker] host-patterns key-type base64-key [comment] (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT). */
const KNOWN_HOSTS_LINE =
  /^(@(revoked|cert-authority)\s+)?\S+\s+(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+|[a-z0-9-]+-cert-v01@openssh\.com)\s+[A-Za-z0-9+/]+={0,2}(\s.*)?$/

/**
 * What is wrong with a known_hosts file obsctl will read and append new host keys to (ssh.hostKeyPolicy accept-new),
 * or undefined. A file that does not exist yet is fine (the first key creates it) when its folder exists; a folder, or
 * a file with content of which no line is a known_hosts entry (the inventory given by mistake), is not: obsctl would
 * append host keys to it.
 */
export function knownHostsProblem(file: string): {message: string; fix: string} | undefined {
  const fix = 'point it at a known_hosts file (HOST KEYTYPE BASE64-KEY lines), or at a path in an existing folder for a new one'
  let st: import('node:fs').Stats
  try {
    st = statSync(file)
  } catch (error) {
    if ((error as {code?: string}).code !== 'ENOENT') return {message: `${file}: ${fsReason(error)}`, fix}
    const dir = path.dirname(file)
    let parent: import('node:fs').Stats | undefined
    try {
      parent = statSync(dir)
    } catch {
      // reported below
    }
    return parent?.isDirectory() ? undefined : {message: `${file}: its folder ${dir} does not exist`, fix}
  }
  if (st.isDirectory()) return {message: `${file}: it is a directory, not a file`, fix}
  if (!st.isFile()) return {message: `${file}: not a regular file`, fix}
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return {message: `${file}: ${fsReason(error)}`, fix}
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  if (lines.length > 0 && !lines.some((l) => KNOWN_HOSTS_LINE.test(l)))
    return {message: `${file} is not a known_hosts file: none of its lines is a host key (HOST KEYTYPE BASE64-KEY)`, fix}
  return undefined
}

export function checkFiles(inv: LoadedInventory): FileFinding[] {
  const p = inv.platform
  const out: FileFinding[] = []
  const push = (id: string, at: FieldPath, r: {message: string; fix: string} | undefined) => {
    if (r) out.push({id, at, message: r.message, fix: r.fix})
  }
  if (p.ssh.identityFile) push('ssh-identity-file', ['ssh', 'identityFile'], privateKeyProblem(path.resolve(inv.dir, expandHome(p.ssh.identityFile))))
  if (p.git.sshKeyFile) push('git-ssh-key-file', ['git', 'sshKeyFile'], privateKeyProblem(path.resolve(inv.dir, p.git.sshKeyFile)))
  if (p.s3.caFile) push('s3-ca-file', ['s3', 'caFile'], caProblem(path.resolve(inv.dir, p.s3.caFile)))
  if (p.ssh.knownHosts) push('ssh-known-hosts', ['ssh', 'knownHosts'], knownHostsProblem(knownHostsPath(inv.dir, p.ssh.knownHosts)))
  return out
}
