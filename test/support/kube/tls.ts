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

  /**
   * A serving certificate valid from `start` to `end` exactly: one that has expired, or is not valid yet (`openssl
   * ca`, since `req -x509` takes only a positive -days; the way kubeadm's certificates age).
   */
  servingDated(start: Date, end: Date, subjectAltName = 'IP:127.0.0.1,DNS:localhost'): KeyPair {
    const d = mkdtempSync(join(this.dir, 'dated-'))
    const when = (t: Date) => `${t.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`
    writeFileSync(join(d, 'index.txt'), '')
    writeFileSync(join(d, 'serial'), '01\n')
    writeFileSync(
      join(d, 'ca.cnf'),
      [
        '[ca]',
        'default_ca=d',
        '[d]',
        `database=${d}/index.txt`,
        `serial=${d}/serial`,
        `new_certs_dir=${d}`,
        'default_md=sha256',
        'policy=p',
        'unique_subject=no',
        '[p]',
        'commonName=supplied',
        '[req]',
        'distinguished_name=dn',
        '[dn]',
        '[leaf]',
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${subjectAltName}`,
        '',
      ].join('\n'),
    )
    openssl(d, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.key'])
    openssl(d, ['req', '-new', '-key', 'k.key', '-subj', '/CN=kube-apiserver', '-config', 'ca.cnf', '-out', 'r.csr'])
    openssl(d, [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      '../ca.crt',
      '-keyfile',
      '../ca.key',
      '-in',
      'r.csr',
      '-startdate',
      when(start),
      '-enddate',
      when(end),
      '-extensions',
      'leaf',
      '-out',
      'k.crt',
      '-notext',
    ])
    return {cert: readFileSync(join(d, 'k.crt'), 'utf8'), key: readFileSync(join(d, 'k.key'), 'utf8')}
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
