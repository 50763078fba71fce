/**
 * The platform CA and the server certificates obsctl issues from it (used by the `secrets` phase for
 * logging/opensearch-http-tls and obsctl-ingress-tls). Everything goes through the `openssl` CLI
 * (OpenSSL 3, run with execa, never through a shell):
 *
 *   .obsctl/pki/ca.crt  self-signed, EC P-256, CN "obsctl platform CA (<domain>)", CA:TRUE, 10 years
 *   .obsctl/pki/ca.key  its key (mode 0600, written atomically; the directory is 0700)
 *
 * The CA is created on first need and reused on every later run. Leaf keys never touch the disk: one
 * `openssl req -x509 -newkey … -keyout -` writes the new key and the certificate to its stdout, which
 * stays in memory (a child's stdin and stdout are sockets under Node, so /dev/stdin cannot carry a key
 * in). Nothing here logs a key or returns one outside the values the caller asked for.
 */
import {X509Certificate, createPrivateKey} from 'node:crypto'
import {chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {pkiDir} from '../platform/index.js'
import {ObsctlError, errorMessage} from '../errors.js'
import {ensurePrivateDir, writeFileAtomic} from '../fs.js'

export const CA_DAYS = 3650
export const LEAF_DAYS = 825
/** a certificate that expires sooner than this is replaced */
export const RENEW_DAYS = 30

const DAY_MS = 24 * 60 * 60 * 1000
/** `openssl req`: a new EC P-256 key, unencrypted, on stdout before the certificate; no config file */
const NEW_KEY = ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', '-', '-config', '/dev/null', '-sha256']

export {pkiDir}

export interface PlatformCa {
  certFile: string
  keyFile: string
  /** PEM of the CA certificate (public: ca.crt of the TLS Secrets, Fluent Bit's trust) */
  certPem: string
  cert: X509Certificate
  /** created in this run */
  created: boolean
}

export interface IssuedCertificate {
  certPem: string
  keyPem: string
}

// ---------------------------------------------------------------------------------------------
// the openssl CLI

const INSTALL_HINT = 'install OpenSSL 3 (Debian/Ubuntu package openssl: apt-get install openssl)'
const OWN_PKI_HINT = 'or create the TLS Secrets yourself before the run (kubectl create secret tls …): obsctl leaves Secrets without its label alone'

let checked: Promise<string> | undefined

/** `openssl version`, once per process: OpenSSL 3 or later (`req -CA` issues certificates). */
export function checkOpenssl(): Promise<string> {
  checked ??= (async () => {
    const out = await openssl(['version'])
    const m = /^OpenSSL (\d+)\.(\d+)/.exec(out.trim())
    if (!m || Number(m[1]) < 3) {
      throw new ObsctlError(`obsctl needs OpenSSL 3 or later to issue TLS certificates; found: ${out.trim() || 'no version'}`, {code: 'OPENSSL_VERSION', hints: [INSTALL_HINT, OWN_PKI_HINT]})
    }
    return out.trim()
  })()
  checked.catch(() => {
    checked = undefined
  })
  return checked
}

/** Run openssl; stdout on success. Errors carry openssl's stderr only (never stdout, which may hold a key). */
async function openssl(args: string[]): Promise<string> {
  const {execa} = await import('execa')
  const r = await execa('openssl', args, {stdin: 'ignore', reject: false, stripFinalNewline: false, env: {LC_ALL: 'C'}})
  if (r.failed && r.exitCode === undefined) {
    const missing = (r as {code?: string}).code === 'ENOENT'
    throw new ObsctlError(missing ? 'the openssl command is not installed (obsctl issues the platform TLS certificates with it)' : `cannot run openssl: ${r.shortMessage}`, {
      code: 'OPENSSL_MISSING',
      hints: [INSTALL_HINT, OWN_PKI_HINT],
    })
  }
  if (r.exitCode !== 0) {
    const err = String(r.stderr ?? '').trim().split('\n').slice(0, 4).join(' | ')
    throw new ObsctlError(`openssl ${args[0]} failed (exit ${r.exitCode}): ${err || 'no message'}`, {code: 'OPENSSL_FAILED', hints: [OWN_PKI_HINT]})
  }
  return String(r.stdout ?? '')
}

/** `-subj` value: one CN, with openssl's separators escaped. */
function subject(cn: string): string {
  // a CN holds at most 64 characters
  return `/CN=${cn.slice(0, 64).replace(/[\\/+]/g, (c) => `\\${c}`)}`
}

/** `openssl req … -keyout -` output: the key and the certificate (PEM), checked to belong together. */
async function newKeyAndCertificate(args: string[]): Promise<IssuedCertificate> {
  const out = await openssl([...NEW_KEY, ...args])
  const keyPem = /-----BEGIN PRIVATE KEY-----\r?\n[\s\S]*?-----END PRIVATE KEY-----\r?\n?/.exec(out)?.[0]
  const certPem = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----\r?\n?/.exec(out)?.[0]
  let ok = false
  try {
    ok = Boolean(keyPem && certPem && new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)))
  } catch {}
  if (!ok) throw new ObsctlError('openssl req printed no matching private key and certificate', {code: 'OPENSSL_FAILED', hints: [OWN_PKI_HINT]})
  return {keyPem: keyPem!.endsWith('\n') ? keyPem! : `${keyPem}\n`, certPem: certPem!.endsWith('\n') ? certPem! : `${certPem}\n`}
}

/** A host (DNS name or IP address) as a subjectAltName entry. */
function sanEntry(host: string): string {
  return net.isIP(host) ? `IP:${host}` : `DNS:${host}`
}

// ---------------------------------------------------------------------------------------------
// the platform CA

function caError(message: string, dir: string): ObsctlError {
  return new ObsctlError(message, {
    code: 'PKI_CA',
    hints: [`${dir} holds obsctl's platform CA; restore ca.crt and ca.key together, or remove both: obsctl then creates a new CA and replaces every certificate it issued (Fluent Bit on every cluster gets the new ca.crt)`],
  })
}

function loadCa(certFile: string, keyFile: string, dir: string): PlatformCa {
  let cert: X509Certificate
  let certPem: string
  try {
    certPem = readFileSync(certFile, 'utf8')
    cert = new X509Certificate(certPem)
  } catch (error) {
    throw caError(`${certFile} is not a readable PEM certificate: ${errorMessage(error)}`, dir)
  }
  let matches: boolean
  try {
    matches = cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))
  } catch (error) {
    throw caError(`${keyFile} is not a readable private key: ${errorMessage(error)}`, dir)
  }
  if (!matches) throw caError(`${keyFile} is not the key of ${certFile}`, dir)
  if (!cert.ca) throw caError(`${certFile} is not a CA certificate`, dir)
  if (Date.parse(cert.validTo) <= Date.now()) throw caError(`the platform CA ${certFile} expired on ${cert.validTo}`, dir)
  // the key stays private even when something loosened its mode
  if ((statSync(keyFile).mode & 0o077) !== 0) chmodSync(keyFile, 0o600)
  return {certFile, keyFile, certPem, cert, created: false}
}

/**
 * The platform CA beside the inventory: loaded when both files exist, created when neither does (or
 * only a key is left). A certificate without its key is an error, never replaced silently: clusters
 * and people may trust it. The pair appears at once: both files are written (atomically, the key
 * 0600) into a private staging directory that is renamed to pki/; when another run got there first,
 * its CA is used.
 */
export async function ensurePlatformCa(inventoryDir: string, domain: string): Promise<PlatformCa> {
  const dir = pkiDir(inventoryDir)
  const certFile = path.join(dir, 'ca.crt')
  const keyFile = path.join(dir, 'ca.key')
  if (existsSync(certFile)) {
    if (!existsSync(keyFile)) throw caError(`${certFile} exists without its key ${keyFile}`, dir)
    ensurePrivateDir(dir) // a pki/ (or .obsctl/) left too open is tightened
    return loadCa(certFile, keyFile, dir)
  }
  await checkOpenssl()
  const {keyPem, certPem} = await newKeyAndCertificate([
    '-days', String(CA_DAYS),
    '-subj', subject(`obsctl platform CA (${domain})`),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  const created: PlatformCa = {certFile, keyFile, certPem, cert: new X509Certificate(certPem), created: true}
  ensurePrivateDir(path.dirname(dir))
  const stage = mkdtempSync(path.join(path.dirname(dir), '.pki-')) // mode 0700
  try {
    await writeFileAtomic(path.join(stage, 'ca.key'), keyPem, {mode: 0o600})
    await writeFileAtomic(path.join(stage, 'ca.crt'), certPem, {mode: 0o644})
    try {
      renameSync(stage, dir) // replaces a missing or empty pki/, never a full one
      chmodSync(dir, 0o700)
      return created
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
    }
    // another run created the CA meanwhile: use it
    if (existsSync(certFile)) return loadCa(certFile, keyFile, dir)
    // only a key is there (nothing can have been issued from it without its certificate): replace it
    chmodSync(dir, 0o700)
    await writeFileAtomic(keyFile, keyPem, {mode: 0o600})
    await writeFileAtomic(certFile, certPem, {mode: 0o644})
    return created
  } finally {
    rmSync(stage, {recursive: true, force: true})
  }
}

// ---------------------------------------------------------------------------------------------
// server certificates

/** A new EC P-256 server certificate (serverAuth, 825 days) for hosts, issued by the platform CA. */
export async function issueServerCertificate(ca: PlatformCa, o: {commonName: string; hosts: string[]}): Promise<IssuedCertificate> {
  if (o.hosts.length === 0) throw new Error('a certificate needs at least one host')
  await checkOpenssl()
  return newKeyAndCertificate([
    '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-days', String(LEAF_DAYS),
    '-subj', subject(o.commonName),
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', 'extendedKeyUsage=serverAuth',
    '-addext', `subjectAltName=${o.hosts.map(sanEntry).join(',')}`,
  ])
}

/** DNS names and IP addresses in a certificate's subjectAltName. */
export function certificateHosts(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .map((e) => /^(?:DNS|IP Address):(.+)$/.exec(e.trim())?.[1])
    .filter((x): x is string => Boolean(x))
}

/**
 * Why a certificate (with its key) is not fit to keep, or undefined when it is: issued (and signed) by
 * the platform CA, valid for more than RENEW_DAYS, its key, every host among its subjectAltNames.
 * The answer names hosts and dates only.
 */
export function certificateProblem(certPem: string, keyPem: string, ca: PlatformCa, hosts: string[], now = Date.now()): string | undefined {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certPem)
  } catch {
    return 'tls.crt is not a PEM certificate'
  }
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return 'signed by another CA'
  const until = Date.parse(cert.validTo)
  if (!(until - now > RENEW_DAYS * DAY_MS)) return `expires ${cert.validTo}`
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'tls.key is not the key of tls.crt'
  } catch {
    return 'tls.key is not a private key'
  }
  const dns = new Set(certificateHosts(cert).map((h) => h.toLowerCase()))
  const missing = hosts.filter((h) => (net.isIP(h) ? cert.checkIP(h) === undefined : !dns.has(h.toLowerCase())))
  if (missing.length > 0) return `not valid for ${missing.join(', ')}`
  return undefined
}
