/**
 * The platform CA and the server certificates obsctl issues from it (used by the `secrets` phase for
 * logging/opensearch-http-tls and obsctl-ingress-tls). Keys are made by Node's WebCrypto and certificates
 * built and signed by @peculiar/x509 (a maintained X.509 library on WebCrypto), so no `openssl` binary is
 * needed (macOS's LibreSSL is no obstacle); they are read back with node:crypto's X509Certificate.
 *
 *   .obsctl/pki/ca.crt  self-signed, EC P-256, CN "obsctl platform CA (<domain>)", CA:TRUE, 10 years
 *   .obsctl/pki/ca.key  its key, PKCS#8 PEM (mode 0600, written atomically; the directory is 0700)
 *
 * The CA is created on first need and reused on every later run (a CA made earlier with openssl, EC or
 * RSA, is read the same way). Leaf keys never touch the disk: they stay in memory until the caller puts
 * them into a Secret. Nothing here logs a key or returns one outside the values the caller asked for.
 */
import {X509Certificate, createPrivateKey, randomBytes, webcrypto} from 'node:crypto'
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
// keys and certificates (WebCrypto + @peculiar/x509, loaded only when a certificate is made)

const EC_P256 = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'} as const
const RSA_SHA256 = {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'} as const

type X509 = typeof import('@peculiar/x509')
let x509lib: Promise<X509> | undefined

/** @peculiar/x509 on Node's WebCrypto. Its dependency tsyringe needs the Reflect metadata API, loaded first. */
function x509(): Promise<X509> {
  x509lib ??= (async () => {
    await import('reflect-metadata')
    const lib = await import('@peculiar/x509')
    lib.cryptoProvider.set(webcrypto as Crypto) // node:crypto's webcrypto is the DOM Crypto the library types
    return lib
  })()
  return x509lib
}

/** A positive serial number of 16 random bytes (RFC 5280: at most 20 octets, positive). */
function serialNumber(): string {
  const b = randomBytes(16)
  b[0] = b[0]! & 0x7f || 0x01
  return b.toString('hex')
}

/** A subject of one CN (a CN holds at most 64 characters); the library escapes it. */
const subjectOf = (lib: X509, cn: string) => new lib.Name([{CN: [cn.slice(0, 64)]}])

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`
}

/** The CA's private key as a WebCrypto signing key, with the algorithm it signs with (EC P-256 or RSA). */
async function signingKey(keyPem: string): Promise<{key: webcrypto.CryptoKey; alg: typeof EC_P256 | typeof RSA_SHA256}> {
  const k = createPrivateKey(keyPem)
  const der = k.export({format: 'der', type: 'pkcs8'})
  if (k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return {key: await webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']), alg: EC_P256}
  }
  if (k.asymmetricKeyType === 'rsa') return {key: await webcrypto.subtle.importKey('pkcs8', der, RSA_SHA256, false, ['sign']), alg: RSA_SHA256}
  throw new ObsctlError(
    `the platform CA key is ${k.asymmetricKeyType}${k.asymmetricKeyDetails?.namedCurve ? ` ${k.asymmetricKeyDetails.namedCurve}` : ''}; obsctl signs with EC P-256 or RSA keys`,
    {
      code: 'PKI_CA',
      hints: [OWN_PKI_HINT],
    },
  )
}

const OWN_PKI_HINT = 'or create the TLS Secrets yourself before the run (kubectl create secret tls …): obsctl leaves Secrets without its label alone'

/** A new self-signed CA (EC P-256). */
async function newCa(cn: string): Promise<IssuedCertificate> {
  const lib = await x509()
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectOf(lib, cn),
    notBefore: new Date(now - 60_000), // a minute of slack for clocks a little behind
    notAfter: new Date(now + CA_DAYS * DAY_MS),
    keys: keys as CryptoKeyPair,
    signingAlgorithm: EC_P256,
    extensions: [
      new lib.BasicConstraintsExtension(true, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  })
  return {certPem: `${cert.toString('pem')}\n`, keyPem: await pkcs8Pem(keys.privateKey)}
}

// ---------------------------------------------------------------------------------------------
// the platform CA

function caError(message: string, dir: string): ObsctlError {
  return new ObsctlError(message, {
    code: 'PKI_CA',
    hints: [
      `${dir} holds obsctl's platform CA; restore ca.crt and ca.key together, or remove both: obsctl then creates a new CA and replaces every certificate it issued (Fluent Bit on every cluster gets the new ca.crt)`,
    ],
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
  const {keyPem, certPem} = await newCa(`obsctl platform CA (${domain})`)
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

/** The CA's signing key and parsed certificate, read once per CA for every certificate a run issues. */
const issuers = new WeakMap<PlatformCa, Promise<{signer: Awaited<ReturnType<typeof signingKey>>; issuer: InstanceType<X509['X509Certificate']>}>>()
function issuerOf(lib: X509, ca: PlatformCa) {
  let got = issuers.get(ca)
  if (!got) {
    got = (async () => ({signer: await signingKey(readFileSync(ca.keyFile, 'utf8')), issuer: new lib.X509Certificate(ca.certPem)}))()
    issuers.set(ca, got)
  }
  return got
}

/** A new EC P-256 server certificate (serverAuth, 825 days) for hosts, issued by the platform CA. */
export async function issueServerCertificate(ca: PlatformCa, o: {commonName: string; hosts: string[]}): Promise<IssuedCertificate> {
  if (o.hosts.length === 0) throw new Error('a certificate needs at least one host')
  const lib = await x509()
  const {signer, issuer} = await issuerOf(lib, ca)
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectOf(lib, o.commonName),
    issuer: issuer.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + LEAF_DAYS * DAY_MS),
    publicKey: keys.publicKey as CryptoKey,
    signingKey: signer.key as CryptoKey,
    signingAlgorithm: signer.alg,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
      new lib.SubjectAlternativeNameExtension(o.hosts.map((h) => (net.isIP(h) ? {type: 'ip' as const, value: h} : {type: 'dns' as const, value: h}))),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
      await lib.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  })
  return {certPem: `${cert.toString('pem')}\n`, keyPem: await pkcs8Pem(keys.privateKey)}
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
