/**
 * The platform CA and server certificates (src/lib/kube/pki.ts, made with @peculiar/x509 on WebCrypto):
 * files and modes, what the certificates say (read back with node:crypto and, as an independent peer, the
 * real `openssl x509` and `openssl verify`), reuse, refusals; no openssl binary needed to make them.
 */
import {X509Certificate, createPrivateKey} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {isObsctlError} from '../../src/lib/errors.js'
import {certificateHosts, certificateProblem, ensurePlatformCa, issueServerCertificate, pkiDir} from '../../src/lib/kube/pki.js'

const DAY = 24 * 60 * 60 * 1000
const dirs: string[] = []
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'obsctl-pki-'))
  dirs.push(d)
  return d
}
const mode = (f: string) => statSync(f).mode & 0o777
const days = (c: X509Certificate) => Math.round((Date.parse(c.validTo) - Date.parse(c.validFrom)) / DAY)
const text = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-text'], {input: pem, encoding: 'utf8'})

afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})

describe('platform CA', () => {
  it('is created on first need in .obsctl/pki: EC P-256, self-signed CA, 10 years; key 0600 in a 0700 directory', async () => {
    const dir = tmp()
    const ca = await ensurePlatformCa(dir, 'lab.test')
    expect(ca.created).toBe(true)
    expect(ca.certFile).toBe(path.join(dir, '.obsctl', 'pki', 'ca.crt'))
    expect(ca.keyFile).toBe(path.join(pkiDir(dir), 'ca.key'))
    expect(mode(pkiDir(dir))).toBe(0o700)
    expect(mode(ca.keyFile)).toBe(0o600)
    const cert = new X509Certificate(readFileSync(ca.certFile))
    expect(cert.subject).toBe('CN=obsctl platform CA (lab.test)')
    expect(cert.issuer).toBe(cert.subject)
    expect(cert.ca).toBe(true)
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(days(cert)).toBe(3650)
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(ca.keyFile)))).toBe(true)
    const t = text(ca.certPem)
    expect(t).toMatch(/Basic Constraints: critical\s+CA:TRUE/)
    expect(t).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/)
  })

  it('is reused on later runs (files untouched); a loosened key mode is tightened again', async () => {
    const dir = tmp()
    const first = await ensurePlatformCa(dir, 'lab.test')
    const before = {crt: statSync(first.certFile).mtimeMs, key: readFileSync(first.keyFile, 'utf8')}
    chmodSync(first.keyFile, 0o644)
    const again = await ensurePlatformCa(dir, 'lab.test')
    expect(again.created).toBe(false)
    expect(again.certPem).toBe(first.certPem)
    expect(statSync(again.certFile).mtimeMs).toBe(before.crt)
    expect(readFileSync(again.keyFile, 'utf8')).toBe(before.key)
    expect(mode(again.keyFile)).toBe(0o600)
  })

  it('a certificate without its key, or with another key, is an error (never replaced silently)', async () => {
    const dir = tmp()
    const ca = await ensurePlatformCa(dir, 'lab.test')
    const other = await ensurePlatformCa(tmp(), 'other.test')
    writeFileSync(ca.keyFile, readFileSync(other.keyFile))
    const wrong = await ensurePlatformCa(dir, 'lab.test').catch((e: unknown) => e)
    expect(isObsctlError(wrong) && wrong.code).toBe('PKI_CA')
    expect((wrong as Error).message).toContain('is not the key of')
    rmSync(ca.keyFile)
    const lost = await ensurePlatformCa(dir, 'lab.test').catch((e: unknown) => e)
    expect(isObsctlError(lost) && lost.code).toBe('PKI_CA')
    expect((lost as Error).message).toContain('without its key')
    expect(readFileSync(ca.certFile, 'utf8')).toBe(ca.certPem)
  })

  it('two runs creating it at once end with one CA; an empty pki/ is filled; no staging directory is left', async () => {
    const dir = tmp()
    const [a, b] = await Promise.all([ensurePlatformCa(dir, 'lab.test'), ensurePlatformCa(dir, 'lab.test')])
    expect(a.certPem).toBe(b.certPem)
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect(readFileSync(a.certFile, 'utf8')).toBe(a.certPem)
    expect(new X509Certificate(a.certPem).checkPrivateKey(createPrivateKey(readFileSync(a.keyFile)))).toBe(true)
    expect(readdirSync(path.join(dir, '.obsctl'))).toEqual(['pki'])
    expect(readdirSync(pkiDir(dir)).sort()).toEqual(['ca.crt', 'ca.key'])

    const empty = tmp()
    mkdirSync(pkiDir(empty), {recursive: true, mode: 0o755})
    const c = await ensurePlatformCa(empty, 'lab.test')
    expect(c.created).toBe(true)
    expect(mode(pkiDir(empty))).toBe(0o700)
    expect(mode(c.keyFile)).toBe(0o600)
  })

  it('a key left without a certificate (creation interrupted) is replaced by a new CA', async () => {
    const dir = tmp()
    const ca = await ensurePlatformCa(dir, 'lab.test')
    const oldKey = readFileSync(ca.keyFile, 'utf8')
    rmSync(ca.certFile)
    const fresh = await ensurePlatformCa(dir, 'lab.test')
    expect(fresh.created).toBe(true)
    expect(readFileSync(fresh.keyFile, 'utf8')).not.toBe(oldKey)
    expect(mode(fresh.keyFile)).toBe(0o600)
  })
})

describe('server certificates', () => {
  it('EC P-256, 825 days, serverAuth, not a CA, every host as a SAN (IP addresses as IP SANs), issued and signed by the CA', async () => {
    const ca = await ensurePlatformCa(tmp(), 'lab.test')
    const hosts = ['opensearch', 'opensearch.logging.svc', '*.k8s-cluster-01.lab.test', '10.20.30.40']
    const {certPem, keyPem} = await issueServerCertificate(ca, {commonName: 'opensearch', hosts})
    const cert = new X509Certificate(certPem)
    expect(cert.subject).toBe('CN=opensearch')
    expect(cert.checkIssued(ca.cert)).toBe(true)
    expect(cert.verify(ca.cert.publicKey)).toBe(true)
    expect(cert.ca).toBe(false)
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1'])
    expect(days(cert)).toBe(825)
    expect(cert.subjectAltName).toBe('DNS:opensearch, DNS:opensearch.logging.svc, DNS:*.k8s-cluster-01.lab.test, IP Address:10.20.30.40')
    expect(certificateHosts(cert)).toEqual(hosts)
    expect(cert.checkHost('grafana.k8s-cluster-01.lab.test')).toBe('*.k8s-cluster-01.lab.test')
    // PKCS#8 (what OpenSearch's security plugin reads), and the certificate's key
    expect(keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true)
    const key = createPrivateKey(keyPem)
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.checkPrivateKey(key)).toBe(true)
    // openssl agrees: the chain verifies for TLS servers
    const dir = tmp()
    writeFileSync(path.join(dir, 'leaf.crt'), certPem)
    expect(execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', ca.certFile, path.join(dir, 'leaf.crt')], {encoding: 'utf8'})).toContain(
      ': OK',
    )
    expect(text(certPem)).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
  })

  it('certificateProblem: fit, a host missing, expiring within 30 days, another CA, another key', async () => {
    const ca = await ensurePlatformCa(tmp(), 'lab.test')
    const other = await ensurePlatformCa(tmp(), 'lab.test')
    const hosts = ['opensearch', 'opensearch.logging']
    const a = await issueServerCertificate(ca, {commonName: 'opensearch', hosts})
    const b = await issueServerCertificate(ca, {commonName: 'opensearch', hosts})
    const foreign = await issueServerCertificate(other, {commonName: 'opensearch', hosts})
    expect(certificateProblem(a.certPem, a.keyPem, ca, hosts)).toBeUndefined()
    expect(certificateProblem(a.certPem, a.keyPem, ca, ['OpenSearch'])).toBeUndefined()
    expect(certificateProblem(a.certPem, a.keyPem, ca, [...hosts, 'logs.example.test', '10.0.0.9'])).toBe('not valid for logs.example.test, 10.0.0.9')
    const validTo = Date.parse(new X509Certificate(a.certPem).validTo)
    expect(certificateProblem(a.certPem, a.keyPem, ca, hosts, validTo - 31 * DAY)).toBeUndefined()
    expect(certificateProblem(a.certPem, a.keyPem, ca, hosts, validTo - 29 * DAY)).toMatch(/^expires /)
    // same subject and issuer name, but signed by another key
    expect(certificateProblem(foreign.certPem, foreign.keyPem, ca, hosts)).toBe('signed by another CA')
    expect(certificateProblem(a.certPem, b.keyPem, ca, hosts)).toBe('tls.key is not the key of tls.crt')
    expect(certificateProblem('garbage', a.keyPem, ca, hosts)).toBe('tls.crt is not a PEM certificate')
  })
})

describe('without openssl', () => {
  it('creates the CA and issues certificates all the same (no openssl binary on PATH)', async () => {
    const saved = process.env.PATH
    process.env.PATH = tmp()
    try {
      const dir = tmp()
      const ca = await ensurePlatformCa(dir, 'lab.test')
      const leaf = await issueServerCertificate(ca, {commonName: 'x', hosts: ['x.lab.test']})
      expect(certificateProblem(leaf.certPem, leaf.keyPem, ca, ['x.lab.test'])).toBeUndefined()
    } finally {
      process.env.PATH = saved
    }
  })
})

describe('a CA made earlier by openssl (RSA)', () => {
  it('is loaded and signs server certificates that openssl verifies', async () => {
    const dir = tmp()
    const pki = pkiDir(dir)
    mkdirSync(pki, {recursive: true, mode: 0o700})
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-noenc',
        '-days',
        '30',
        '-subj',
        '/CN=an older CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-keyout',
        path.join(pki, 'ca.key'),
        '-out',
        path.join(pki, 'ca.crt'),
      ],
      {stdio: 'ignore'},
    )
    const ca = await ensurePlatformCa(dir, 'lab.test')
    expect(ca.created).toBe(false)
    const leaf = await issueServerCertificate(ca, {commonName: 'grafana', hosts: ['grafana.lab.test', '10.0.0.7']})
    writeFileSync(path.join(dir, 'leaf.crt'), leaf.certPem)
    expect(execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', ca.certFile, path.join(dir, 'leaf.crt')], {encoding: 'utf8'})).toContain(
      ': OK',
    )
    expect(certificateProblem(leaf.certPem, leaf.keyPem, ca, ['grafana.lab.test', '10.0.0.7'])).toBeUndefined()
  })
})
