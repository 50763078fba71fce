/**
 * Certificates for one test API server, made with the openssl CLI (node:crypto cannot issue X.509).
 * Each server gets its own CA; the CA signs the serving certificate (SAN 127.0.0.1, ::1, localhost)
 * and every client certificate (CN = user, O = groups), like kubeadm's single cluster CA.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface KeyPair {
  cert: string
  key: string
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
/** valid for over a year, as kubeadm's are: validate's certificates.expiry warns under 30 days */
const DAYS = '400'

export class CertificateAuthority {
  private constructor(
    private readonly dir: string,
    readonly cert: string,
    readonly key: string,
  ) {}

  static create(commonName: string): CertificateAuthority {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ca-'))
    openssl(dir, [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      DAYS,
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ])
    return new CertificateAuthority(dir, readFileSync(join(dir, 'ca.crt'), 'utf8'), readFileSync(join(dir, 'ca.key'), 'utf8'))
  }

  /** key and certificate signed by this CA in one openssl run (`req -x509 -CA`, OpenSSL ≥ 3.0; a random serial) */
  private issue(name: string, subject: string, extensions: string[]): KeyPair {
    const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '_')
    openssl(this.dir, [
      'req',
      '-x509',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      ...EC,
      '-keyout',
      `${safe}.key`,
      '-out',
      `${safe}.crt`,
      '-days',
      DAYS,
      '-subj',
      subject,
      ...extensions.flatMap((e) => ['-addext', e]),
    ])
    return {cert: readFileSync(join(this.dir, `${safe}.crt`), 'utf8'), key: readFileSync(join(this.dir, `${safe}.key`), 'utf8')}
  }

  serving(): KeyPair {
    return this.issue('serving', '/CN=kube-apiserver', [
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc',
      'extendedKeyUsage=serverAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'basicConstraints=critical,CA:FALSE',
    ])
  }

  client(user: string, groups: string[] = []): KeyPair {
    const esc = (s: string) => s.replace(/[/=+,]/g, (c) => `\\${c}`)
    const subject = `${groups.map((g) => `/O=${esc(g)}`).join('')}/CN=${esc(user)}`
    return this.issue(`client-${user}`, subject, [
      'extendedKeyUsage=clientAuth',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'basicConstraints=critical,CA:FALSE',
    ])
  }

  dispose(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}
