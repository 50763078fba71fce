/**
 * Certificates for one test API server, made with the openssl CLI (node:crypto cannot issue X.509).
 * Each server gets its own CA; the CA signs the serving certificate (SAN 127.0.0.1, ::1, localhost)
 * and every client certificate (CN = user, O = groups), like kubeadm's single cluster CA.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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

  private issue(name: string, subject: string, extensions: string): KeyPair {
    const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '_')
    writeFileSync(join(this.dir, `${safe}.ext`), extensions)
    openssl(this.dir, ['req', '-new', ...EC, '-keyout', `${safe}.key`, '-out', `${safe}.csr`, '-subj', subject])
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      `${safe}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${safe}.crt`,
      '-days',
      DAYS,
      '-extfile',
      `${safe}.ext`,
    ])
    return {cert: readFileSync(join(this.dir, `${safe}.crt`), 'utf8'), key: readFileSync(join(this.dir, `${safe}.key`), 'utf8')}
  }

  serving(): KeyPair {
    return this.issue(
      'serving',
      '/CN=kube-apiserver',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n' +
        'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n',
    )
  }

  client(user: string, groups: string[] = []): KeyPair {
    const esc = (s: string) => s.replace(/[/=+,]/g, (c) => `\\${c}`)
    const subject = `${groups.map((g) => `/O=${esc(g)}`).join('')}/CN=${esc(user)}`
    return this.issue(
      `client-${user}`,
      subject,
      'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n',
    )
  }

  dispose(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}
