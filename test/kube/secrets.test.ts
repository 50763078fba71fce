/**
 * secrets apply against the Kubernetes API test server, one per cluster (central + 3 edges), through the
 * merged-style kubeconfig (contexts <cluster>-context). No value may reach .obsctl/ (state, logs).
 */
import {execFile} from 'node:child_process'
import {X509Certificate} from 'node:crypto'
import {promisify} from 'node:util'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import YAML from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import type {RunEvent} from '../../src/lib/engine/index.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {ensurePlatformCa, issueServerCertificate} from '../../src/lib/kube/pki.js'
import {secretsApply, type SecretsApplyReport} from '../../src/lib/kube/secrets-apply.js'
import {FLUENTBIT_HASH_COST, fluentbitPasswordFor, secretShapes} from '../../src/lib/kube/secrets/index.js'
import {obsctlAsync, requireBuild} from '../cli/helpers.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {writeKubeconfigFile} from '../support/kube/kubeconfig.js'
import {filesContaining} from './fixtures.js'
import {bcryptRoundsAsked, withRealBcryptCost} from '../support/fast-bcrypt.js'
import {tasksAtOnce} from '../support/run-events.js'

const NAMES = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
const S3 = {access: 'AKIA-obsctl-test-7Q2', secret: 'sEcReT-s3-key-Zx81-obsctl'}
const PW = {admin: 'os-Root-Pw-91kd', fluentbit: 'fb-Pw-k2j3-obsctl', grafana: 'graf-Pw-a8s7-obsctl'}
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfakeCAforTests\n-----END CERTIFICATE-----\n'

let servers: KubeServer[]
let dir: string
let kubeconfig: string
let inv: LoadedInventory
const env: Record<string, string | undefined> = {}

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in env)) env[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}

function inventory(extra = ''): string {
  return `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: lab.test
s3:
  endpoint: https://s3.minio.lab.test:9000
  region: eu-west-1
  buckets: {}
git:
  remote: https://git.lab.test/platform.git
${extra}clusters:
${NAMES.map(
  (n, i) => `  - name: ${n}
    id: "0${i + 1}"
    role: ${i === 0 ? 'central' : 'edge'}${i === 1 ? '\n    metrics: agent' : ''}
    apiServer: https://127.0.0.${i + 1}:6443
    nodes:
      - {host: 10.0.0.${i + 1}, cpu: 4, memory: 16Gi}`,
).join('\n')}
`
}

const secret = (s: KubeServer, ns: string, name: string) =>
  s.getObject('secrets', ns, name) as
    | {
        metadata: {resourceVersion: string; labels?: Record<string, string>; managedFields?: {manager: string; operation: string}[]}
        data: Record<string, string>
        type: string
      }
    | undefined
const dec = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')

/**
 * A hash OpenSearch's security plugin can check, by the rules of the code that checks it (not of our OpenSearch
 * stand-in, which checks with bcryptjs like obsctl): since 2.12 password4j's BcryptFunction (getInstanceFromHash, then
 * cryptRaw: minor a, b or y, rounds 4 to 31), before it BouncyCastle's OpenBSDBCrypt.checkPassword (60 characters,
 * version 2a/2b/2y, a two-digit cost from 4 to 31, else IllegalArgumentException).
 */
function openSearchChecks(hash: string): boolean {
  const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash)
  return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= 31
}

// the central TLS Secrets and the hosts of their certificates (inventory() above: central cluster-01, id 01, domain lab.test)
const TLS = [
  {ns: 'logging', name: 'opensearch-http-tls'},
  {ns: 'monitoring', name: 'obsctl-ingress-tls'},
  {ns: 'logging', name: 'obsctl-ingress-tls'},
]
const OPENSEARCH_SANS = [
  'opensearch',
  'opensearch.logging',
  'opensearch.logging.svc',
  'opensearch.logging.svc.cluster.local',
  'opensearch.k8s-cluster-01.lab.test',
]
const INGRESS_SANS = [
  '*.k8s-cluster-01.lab.test',
  'grafana.k8s-cluster-01.lab.test',
  'thanos-query.k8s-cluster-01.lab.test',
  'thanos-receive.k8s-cluster-01.lab.test',
  'opensearch-dashboards.k8s-cluster-01.lab.test',
]
const sansOf = (pem: string) => new X509Certificate(pem).subjectAltName!.split(', ').map((x) => x.replace(/^DNS:/, ''))
const caFiles = (d: string) => ({crt: path.join(d, '.obsctl', 'pki', 'ca.crt'), key: path.join(d, '.obsctl', 'pki', 'ca.key')})
const rvOf = (s: KubeServer) =>
  s
    .listObjects('secrets')
    .map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)
    .sort()
/** long enough pieces of a PEM to find it in any text form (first body line; the whole PEM base64-encoded as in a Secret) */
const pemNeedles = (pem: string) => [pem.split('\n')[1]!, Buffer.from(pem).toString('base64')]
const actions = (r: SecretsApplyReport, cluster: string) =>
  Object.fromEntries(
    (r.clusters.find((c) => c.cluster === cluster) as {secrets: {namespace: string; name: string; action: string}[]}).secrets.map((s) => [
      `${s.namespace}/${s.name}`,
      s.action,
    ]),
  )

/** the certificate of a TLS Secret: type, keys, label, issued by the CA in dir/.obsctl/pki, its hosts */
function expectTlsSecret(s: KubeServer, ns: string, name: string, d: string, sans: string[]): {crt: string; key: string} {
  const o = secret(s, ns, name)
  expect(o, `${ns}/${name}`).toBeTruthy()
  expect(o!.type).toBe('kubernetes.io/tls')
  expect(Object.keys(o!.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key'])
  expect(o!.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('obsctl')
  const caPem = readFileSync(caFiles(d).crt, 'utf8')
  expect(dec(o!.data['ca.crt']!)).toBe(caPem)
  const crt = dec(o!.data['tls.crt']!)
  const cert = new X509Certificate(crt)
  const ca = new X509Certificate(caPem)
  expect(cert.checkIssued(ca)).toBe(true)
  expect(cert.verify(ca.publicKey)).toBe(true)
  expect(sansOf(crt)).toEqual(sans)
  expect(dec(o!.data['tls.key']!)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
  return {crt, key: dec(o!.data['tls.key']!)}
}

beforeAll(async () => {
  servers = await startKubeServers(NAMES, {users: [{name: 'no-secrets', rules: [{verbs: ['get', 'list', 'create', 'patch'], resources: ['namespaces']}]}]})
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-secrets-'))
  kubeconfig = path.join(dir, 'kubeconfig')
  writeFleetKubeconfig(kubeconfig, servers)
  const invFile = path.join(dir, 'obsctl.yaml')
  writeFileSync(invFile, inventory())
  inv = loadInventory(invFile)
  setEnv({
    OBSCTL_S3_ACCESS_KEY: S3.access,
    OBSCTL_S3_SECRET_KEY: S3.secret,
    OBSCTL_OPENSEARCH_ADMIN_PASSWORD: PW.admin,
    OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: PW.fluentbit,
    OBSCTL_GRAFANA_ADMIN_PASSWORD: PW.grafana,
    OBSCTL_OPENSEARCH_CA_FILE: undefined,
    CI: '1',
  })
})

afterAll(async () => {
  setEnv(Object.fromEntries(Object.keys(env).map((k) => [k, env[k]])))
  await stopKubeServers(servers ?? [])
  if (dir) rmSync(dir, {recursive: true, force: true}) // holds the platform CA's key
})

describe('secrets apply', () => {
  it('creates every Secret with the right keys and formats, namespaces included', async () => {
    const ca = path.join(dir, 'os-ca.pem')
    writeFileSync(ca, CA)
    const costs = bcryptRoundsAsked().length
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: ca, renderer: 'silent'})
    expect(r.clusters.length).toBe(4)
    // the security config's hashes: bcrypt cost 12 for the admin and Grafana users, FLUENTBIT_HASH_COST (4) for each
    // cluster's Fluent Bit user, whose password is 240 bits of HMAC output (the workers cap at 4: test/support/fast-bcrypt.ts)
    expect(
      bcryptRoundsAsked()
        .slice(costs)
        .sort((a, b) => a - b),
    ).toEqual([4, 4, 4, 4, 12, 12])
    const [central, ...edges] = servers
    for (const ns of ['monitoring', 'logging', 'longhorn-system']) expect(central!.getObject('namespaces', undefined as unknown as string, ns)).toBeTruthy()

    const objstore = secret(central!, 'monitoring', 'thanos-objstore')!
    expect(Object.keys(objstore.data)).toEqual(['objstore.yml'])
    expect(YAML.parse(dec(objstore.data['objstore.yml']!))).toEqual({
      type: 'S3',
      config: {
        bucket: 'thanos-metrics',
        endpoint: 's3.minio.lab.test:9000',
        region: 'eu-west-1',
        access_key: S3.access,
        secret_key: S3.secret,
        insecure: false,
        bucket_lookup_type: 'path',
      },
    })
    expect(objstore.metadata.managedFields?.some((m) => m.manager === 'obsctl' && m.operation === 'Apply')).toBe(true)
    expect(objstore.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('obsctl')

    const admin = secret(central!, 'logging', 'opensearch-admin-credentials')!
    expect(dec(admin.data.username!)).toBe('admin')
    expect(dec(admin.data.password!)).toBe(PW.admin)
    const keystore = secret(central!, 'logging', 'opensearch-s3-keystore')!
    expect(Object.keys(keystore.data).sort()).toEqual(['s3.client.default.access_key', 's3.client.default.secret_key'])
    expect(dec(keystore.data['s3.client.default.secret_key']!)).toBe(S3.secret)
    const grafana = secret(central!, 'monitoring', 'grafana-admin-credentials')!
    expect(dec(grafana.data['admin-user']!)).toBe('admin')
    expect(dec(grafana.data['admin-password']!)).toBe(PW.grafana)
    const security = secret(central!, 'logging', 'opensearch-security-config')!
    expect(Object.keys(security.data).sort()).toEqual([
      'action_groups.yml',
      'allowlist.yml',
      'audit.yml',
      'config.yml',
      'internal_users.yml',
      'nodes_dn.yml',
      'roles.yml',
      'roles_mapping.yml',
      'tenants.yml',
    ])
    const users = YAML.parse(dec(security.data['internal_users.yml']!))
    expect(users._meta).toEqual({type: 'internalusers', config_version: 2})
    expect(bcrypt.compareSync(PW.admin, users.admin.hash)).toBe(true)
    // one Fluent Bit user per cluster (cluster remove revokes one), none shared; each edge's password is its own
    const names = servers.map((_s, i) => `cluster-0${i + 1}`)
    expect(users.fluentbit).toBeUndefined()
    for (const n of names) {
      expect(users[`fluentbit-${n}`].reserved).toBe(false)
      expect(bcrypt.compareSync(fluentbitPasswordFor(PW.fluentbit, n), users[`fluentbit-${n}`].hash)).toBe(true)
      expect(bcrypt.getRounds(users[`fluentbit-${n}`].hash)).toBe(FLUENTBIT_HASH_COST)
      expect(openSearchChecks(users[`fluentbit-${n}`].hash), users[`fluentbit-${n}`].hash).toBe(true)
    }
    expect(openSearchChecks(users.admin.hash)).toBe(true)
    expect(YAML.parse(dec(security.data['roles_mapping.yml']!)).fluentbit_writer.users).toEqual(names.map((n) => `fluentbit-${n}`))
    expect(new Set(names.map((n) => fluentbitPasswordFor(PW.fluentbit, n))).size).toBe(names.length)

    for (const [i, s] of servers.entries()) {
      const lh = secret(s, 'longhorn-system', 'longhorn-backup-credentials')!
      expect(Object.fromEntries(Object.entries(lh.data).map(([k, v]) => [k, dec(v)]))).toEqual({
        AWS_ACCESS_KEY_ID: S3.access,
        AWS_SECRET_ACCESS_KEY: S3.secret,
        AWS_ENDPOINTS: 'https://s3.minio.lab.test:9000',
      })
      const fb = secret(s, 'logging', 'fluentbit-opensearch-credentials')!
      const n = `cluster-0${i + 1}`
      // the derivation key stays on central; an edge holds only its own user's password
      expect(Object.fromEntries(Object.entries(fb.data).map(([k, v]) => [k, dec(v)]))).toEqual({
        username: `fluentbit-${n}`,
        password: fluentbitPasswordFor(PW.fluentbit, n),
        'ca.crt': CA,
        ...(i === 0 ? {'per-cluster-key': PW.fluentbit} : {}),
      })
      if (i > 0) expect(JSON.stringify(fb.data)).not.toContain(Buffer.from(PW.fluentbit).toString('base64'))
    }
    // TLS: issued from the platform CA created beside the inventory, the same ingress certificate in both namespaces
    const os = expectTlsSecret(central!, 'logging', 'opensearch-http-tls', dir, OPENSEARCH_SANS)
    const ing = expectTlsSecret(central!, 'monitoring', 'obsctl-ingress-tls', dir, INGRESS_SANS)
    expect(expectTlsSecret(central!, 'logging', 'obsctl-ingress-tls', dir, INGRESS_SANS)).toEqual(ing)
    expect(os.crt).not.toBe(ing.crt)
    expect(statSync(caFiles(dir).key).mode & 0o777).toBe(0o600)
    expect(statSync(path.dirname(caFiles(dir).key)).mode & 0o777).toBe(0o700)
    expect(actions(r, 'cluster-01')).toMatchObject({
      'logging/opensearch-http-tls': 'created',
      'monitoring/obsctl-ingress-tls': 'created',
      'logging/obsctl-ingress-tls': 'created',
    })

    // the agent edge (cluster-02) trusts the Thanos Receive ingress: the platform CA that issued monitoring/obsctl-ingress-tls
    const agentCa = secret(edges[0]!, 'monitoring', 'obsctl-platform-ca')!
    expect(Object.keys(agentCa.data)).toEqual(['ca.crt'])
    expect(dec(agentCa.data['ca.crt']!)).toBe(readFileSync(caFiles(dir).crt, 'utf8'))
    expect(dec(agentCa.data['ca.crt']!)).toBe(dec(secret(central!, 'monitoring', 'obsctl-ingress-tls')!.data['ca.crt']!))
    expect(r.sources.ingressCa).toBe('the platform CA (.obsctl/pki/ca.crt)')
    // remote-scrape edges run no Prometheus: no CA object there
    for (const e of edges.slice(1)) expect(secret(e, 'monitoring', 'obsctl-platform-ca')).toBeUndefined()
    // edges get only Longhorn's and Fluent Bit's (and the agent's CA)
    for (const e of edges) {
      expect(secret(e, 'monitoring', 'thanos-objstore')).toBeUndefined()
      expect(secret(e, 'logging', 'opensearch-admin-credentials')).toBeUndefined()
      for (const t of TLS) expect(secret(e, t.ns, t.name)).toBeUndefined()
    }
    // real kubectl sees them through the same kubeconfig
    // (async: the API test servers run in this process)
    const {stdout} = await promisify(execFile)(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        '--context',
        'cluster-03-context',
        '-n',
        'logging',
        'get',
        'secret',
        'fluentbit-opensearch-credentials',
        '-o',
        'jsonpath={.data.username}',
      ],
      {encoding: 'utf8'},
    )
    expect(dec(stdout)).toBe('fluentbit-cluster-03')
  })

  it('a rerun writes nothing: no resourceVersion moves', async () => {
    const before = servers.map((s) =>
      s
        .listObjects('secrets')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort(),
    )
    servers.forEach((s) => s.clearRequestLog())
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: path.join(dir, 'os-ca.pem'), renderer: 'silent'})
    for (const c of r.clusters) if ('secrets' in c) expect(c.secrets.every((s) => s.action === 'unchanged')).toBe(true)
    expect(actions(r, 'cluster-01')).toMatchObject({
      'logging/opensearch-http-tls': 'unchanged',
      'monitoring/obsctl-ingress-tls': 'unchanged',
      'logging/obsctl-ingress-tls': 'unchanged',
    })
    expect(r.sources['logging/opensearch-http-tls']).toBe('cluster (reused)')
    const after = servers.map((s) =>
      s
        .listObjects('secrets')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort(),
    )
    expect(after).toEqual(before)
    for (const s of servers) expect(s.requestLog.filter((e) => e.method !== 'GET')).toEqual([])
  })

  it("a Fluent Bit user's hash of another cost (an earlier obsctl hashed at 12) is replaced once, at FLUENTBIT_HASH_COST; then kept", async () => {
    const users = () => YAML.parse(dec(secret(servers[0]!, 'logging', 'opensearch-security-config')!.data['internal_users.yml']!))
    const before = users()
    const password = fluentbitPasswordFor(PW.fluentbit, 'cluster-02')
    // the right password's hash, of another cost (5: as cheap as the test needs; 12 is what the earlier obsctl wrote)
    const older = await withRealBcryptCost(() => bcrypt.hash(password, 5))
    const live = secret(servers[0]!, 'logging', 'opensearch-security-config')!
    const edited = {...before, 'fluentbit-cluster-02': {...before['fluentbit-cluster-02'], hash: older}}
    servers[0]!.seed({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'opensearch-security-config', namespace: 'logging', labels: live.metadata.labels},
      type: live.type,
      data: {...live.data, 'internal_users.yml': Buffer.from(YAML.stringify(edited)).toString('base64')},
    })
    const apply = () => secretsApply(inv, {kubeconfig, opensearchCaFile: path.join(dir, 'os-ca.pem'), renderer: 'silent', clusters: ['cluster-01']})
    expect(actions(await apply(), 'cluster-01')['logging/opensearch-security-config']).toBe('updated')
    const after = users()
    expect(bcrypt.getRounds(after['fluentbit-cluster-02'].hash)).toBe(FLUENTBIT_HASH_COST)
    expect(openSearchChecks(after['fluentbit-cluster-02'].hash)).toBe(true)
    expect(bcrypt.compareSync(password, after['fluentbit-cluster-02'].hash)).toBe(true)
    // every other user's hash is the one it had
    for (const u of Object.keys(before).filter((k) => k !== 'fluentbit-cluster-02' && k !== '_meta')) expect(after[u].hash, u).toBe(before[u].hash)
    const rv = secret(servers[0]!, 'logging', 'opensearch-security-config')!.metadata.resourceVersion
    expect(actions(await apply(), 'cluster-01')['logging/opensearch-security-config']).toBe('unchanged')
    expect(secret(servers[0]!, 'logging', 'opensearch-security-config')!.metadata.resourceVersion).toBe(rv)
  })

  it('the shapes plans and fingerprints use (no value computed) are the Secrets written: names and keys, every cluster', async () => {
    inv.platform.clusters.forEach((c, i) => {
      const written = servers[i]!.listObjects('secrets')
        .filter((o) => (o.metadata.labels as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by'] === 'obsctl')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name} ${Object.keys(o.data as object).sort()}`)
        .sort()
      const shapes = secretShapes(inv.platform, c, {opensearchCa: true}).map((x) => `${x.namespace}/${x.name} ${x.keys}`)
      expect(written.length, c.name).toBeGreaterThanOrEqual(2)
      expect(shapes.sort(), c.name).toEqual(written)
    })
  })

  it('a changed value updates just that Secret', async () => {
    setEnv({OBSCTL_GRAFANA_ADMIN_PASSWORD: 'graf-Pw-rotated-2'})
    const rv = secret(servers[0]!, 'monitoring', 'thanos-objstore')!.metadata.resourceVersion
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: path.join(dir, 'os-ca.pem'), renderer: 'silent', clusters: ['cluster-01']})
    const c = r.clusters[0] as {secrets: {name: string; action: string}[]}
    expect(c.secrets.filter((s) => s.action !== 'unchanged').map((s) => `${s.name}:${s.action}`)).toEqual(['grafana-admin-credentials:updated'])
    expect(dec(secret(servers[0]!, 'monitoring', 'grafana-admin-credentials')!.data['admin-password']!)).toBe('graf-Pw-rotated-2')
    expect(secret(servers[0]!, 'monitoring', 'thanos-objstore')!.metadata.resourceVersion).toBe(rv)
    setEnv({OBSCTL_GRAFANA_ADMIN_PASSWORD: PW.grafana})
  })

  it('no value in .obsctl/ (state, logs), nor in the report without --show-generated', async () => {
    const values = [S3.access, S3.secret, PW.admin, PW.fluentbit, PW.grafana, 'graf-Pw-rotated-2']
    const b64 = values.map((v) => Buffer.from(v).toString('base64'))
    expect(filesContaining(path.join(dir, '.obsctl'), [...values, ...b64])).toEqual([])
    expect(filesContaining(path.join(dir, '.obsctl'), ['objstore.yml']).length).toBeGreaterThan(0) // the logs name keys, and exist
    // (one cluster at a time: --concurrency 1)
    const events: RunEvent[] = []
    const r = await secretsApply(inv, {
      kubeconfig,
      opensearchCaFile: path.join(dir, 'os-ca.pem'),
      renderer: 'silent',
      concurrency: 1,
      onEvent: (e) => events.push(e),
    })
    expect(tasksAtOnce(events, 'secrets')).toEqual({most: 1, started: inv.platform.clusters.length})
    const json = JSON.stringify(r)
    for (const v of [...values, ...b64]) expect(json).not.toContain(v)

    // TLS: the leaf keys and certificates nowhere under .obsctl/, the CA's nowhere but in .obsctl/pki
    const leaves = TLS.flatMap((t) => ['tls.key', 'tls.crt'].map((k) => dec(secret(servers[0]!, t.ns, t.name)!.data[k]!)))
    const tlsNeedles = leaves.flatMap(pemNeedles)
    expect(filesContaining(path.join(dir, '.obsctl'), tlsNeedles)).toEqual([])
    const caNeedles = [readFileSync(caFiles(dir).key, 'utf8'), readFileSync(caFiles(dir).crt, 'utf8')].flatMap(pemNeedles)
    expect(filesContaining(path.join(dir, '.obsctl'), caNeedles).filter((f) => !f.startsWith(path.join(dir, '.obsctl', 'pki')))).toEqual([])
    for (const n of [...tlsNeedles, ...caNeedles]) expect(json).not.toContain(n)
  })

  it('--generate-passwords generates only what is missing, keeps what the cluster has, shows them once on request', async () => {
    const fresh = await startKubeServers(['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04'])
    try {
      const kc = path.join(dir, 'fresh-kubeconfig')
      writeFleetKubeconfig(kc, fresh)
      setEnv({OBSCTL_OPENSEARCH_ADMIN_PASSWORD: undefined, OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: undefined, OBSCTL_GRAFANA_ADMIN_PASSWORD: undefined})
      const err = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent'}).catch((e: unknown) => e)
      expect(isObsctlError(err) && err.exitCode).toBe(2)
      expect((err as Error).message).toContain('OpenSearch admin password')
      expect((err as {hints: string[]}).hints.join(' ')).toContain('OBSCTL_OPENSEARCH_ADMIN_PASSWORD')
      expect((err as {hints: string[]}).hints.join(' ')).toContain('--generate-passwords')

      const r = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent', generatePasswords: true, showGenerated: true})
      expect(r.generated).toEqual(['OpenSearch admin password', 'Fluent Bit OpenSearch password', 'Grafana admin password'])
      const gen = r.generatedPasswords!
      expect(gen['OpenSearch admin password']).toMatch(/^[A-Za-z0-9_-]{32}$/)
      expect(dec(secret(fresh[0]!, 'logging', 'opensearch-admin-credentials')!.data.password!)).toBe(gen['OpenSearch admin password'])
      expect(dec(secret(fresh[2]!, 'logging', 'fluentbit-opensearch-credentials')!.data.password!)).toBe(
        fluentbitPasswordFor(gen['Fluent Bit OpenSearch password']!, 'cluster-03'),
      )
      expect(dec(secret(fresh[0]!, 'logging', 'fluentbit-opensearch-credentials')!.data['per-cluster-key']!)).toBe(gen['Fluent Bit OpenSearch password'])
      // no CA given and none in the cluster: obsctl issues opensearch-http-tls, so Fluent Bit trusts the platform CA
      expect(dec(secret(fresh[2]!, 'logging', 'fluentbit-opensearch-credentials')!.data['ca.crt']!)).toBe(readFileSync(caFiles(dir).crt, 'utf8'))
      expect(r.sources.opensearchCa).toBe('the platform CA (.obsctl/pki/ca.crt)')
      // the CA the first test created is reused: the new cluster's certificates come from it
      expectTlsSecret(fresh[0]!, 'logging', 'opensearch-http-tls', dir, OPENSEARCH_SANS)
      expect(filesContaining(path.join(dir, '.obsctl'), Object.values(gen))).toEqual([])

      // rerun with --generate-passwords: keeps the cluster's values, generates nothing, writes nothing
      const rvs = fresh.map((s) =>
        s
          .listObjects('secrets')
          .map((o) => o.metadata.resourceVersion)
          .sort(),
      )
      const again = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent', generatePasswords: true, showGenerated: true})
      expect(again.generated).toEqual([])
      expect(again.generatedPasswords).toBeUndefined()
      expect(again.sources['OpenSearch admin password']).toBe('cluster (kept)')
      expect(
        fresh.map((s) =>
          s
            .listObjects('secrets')
            .map((o) => o.metadata.resourceVersion)
            .sort(),
        ),
      ).toEqual(rvs)
    } finally {
      setEnv({OBSCTL_OPENSEARCH_ADMIN_PASSWORD: PW.admin, OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: PW.fluentbit, OBSCTL_GRAFANA_ADMIN_PASSWORD: PW.grafana})
      await stopKubeServers(fresh)
    }
  })

  it('a user without secrets permission gets a clear 403 error naming the cluster', async () => {
    const kc = path.join(dir, 'limited-kubeconfig')
    // central (where values are looked up) as admin; cluster-02 as a user that may not touch Secrets
    writeKubeconfigFile(
      kc,
      servers.map((s, i) => s.kubeconfigEntry({user: i === 1 ? 'no-secrets' : 'admin'})),
    )
    const err = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent', clusters: ['cluster-02']}).catch((e: unknown) => e)
    expect(isObsctlError(err)).toBe(true)
    expect((err as Error).message).toMatch(/cluster-02-context: forbidden/)
    expect((err as Error).message).toContain('secrets')
    expect((err as {hints: string[]}).hints.join(' ')).toContain('lack this permission')
    expect((err as {exitCode: number}).exitCode).toBe(1)
  })

  it('--dry-run lists the Secrets and keys per cluster and touches nothing', async () => {
    servers.forEach((s) => s.clearRequestLog())
    const r = await secretsApply(inv, {kubeconfig, dryRun: true})
    expect(r.clusters.map((c) => c.cluster)).toEqual(NAMES)
    const plan = (r.clusters[1] as {plan: {name: string; keys: string[]}[]}).plan
    expect(plan.map((s) => s.name)).toEqual(['longhorn-backup-credentials', 'fluentbit-opensearch-credentials', 'obsctl-platform-ca'])
    expect(plan.find((s) => s.name === 'obsctl-platform-ca')!.keys).toEqual(['ca.crt'])
    expect((r.clusters[2] as {plan: {name: string}[]}).plan.map((s) => s.name)).toEqual(['longhorn-backup-credentials', 'fluentbit-opensearch-credentials'])
    const central = (r.clusters[0] as {plan: {namespace: string; name: string; keys: string[]}[]}).plan
    for (const t of TLS) expect(central.find((s) => s.namespace === t.ns && s.name === t.name)?.keys).toEqual(['ca.crt', 'tls.crt', 'tls.key'])
    for (const s of servers) expect(s.requestLog).toEqual([])
  })
})

describe('secrets apply: TLS certificates from the platform CA', () => {
  let fleet: KubeServer[]
  let tdir: string
  let kc: string
  let tinv: LoadedInventory
  const invFile = () => path.join(tdir, 'obsctl.yaml')

  beforeAll(async () => {
    fleet = await startKubeServers(NAMES)
    tdir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-secrets-tls-'))
    kc = path.join(tdir, 'kubeconfig')
    writeFleetKubeconfig(kc, fleet)
    writeFileSync(invFile(), inventory())
    tinv = loadInventory(invFile())
  })

  afterAll(async () => {
    await stopKubeServers(fleet ?? [])
    if (tdir) rmSync(tdir, {recursive: true, force: true}) // holds a CA key
  })

  it('a dry run creates no CA and contacts no cluster', async () => {
    const r = await secretsApply(tinv, {kubeconfig: kc, dryRun: true})
    expect(r.dryRun).toBe(true)
    expect(existsSync(path.join(tdir, '.obsctl', 'pki'))).toBe(false)
    for (const s of fleet) expect(s.requestLog).toEqual([])
  })

  it('first run: the CA beside the inventory, both certificates, and Fluent Bit trusting that CA on every cluster', async () => {
    const r = await secretsApply(tinv, {kubeconfig: kc, renderer: 'silent'})
    const caPem = readFileSync(caFiles(tdir).crt, 'utf8')
    expect(new X509Certificate(caPem).subject).toBe('CN=obsctl platform CA (lab.test)')
    expect(statSync(caFiles(tdir).key).mode & 0o777).toBe(0o600)
    expectTlsSecret(fleet[0]!, 'logging', 'opensearch-http-tls', tdir, OPENSEARCH_SANS)
    expectTlsSecret(fleet[0]!, 'monitoring', 'obsctl-ingress-tls', tdir, INGRESS_SANS)
    expectTlsSecret(fleet[0]!, 'logging', 'obsctl-ingress-tls', tdir, INGRESS_SANS)
    for (const s of fleet) expect(dec(secret(s, 'logging', 'fluentbit-opensearch-credentials')!.data['ca.crt']!)).toBe(caPem)
    expect(r.sources['logging/opensearch-http-tls']).toBe('new from the platform CA: none yet')
  })

  it('a rerun reports the TLS Secrets unchanged and writes nothing', async () => {
    const before = fleet.map(rvOf)
    fleet.forEach((s) => s.clearRequestLog())
    const r = await secretsApply(tinv, {kubeconfig: kc, renderer: 'silent'})
    expect(actions(r, 'cluster-01')).toMatchObject({
      'logging/opensearch-http-tls': 'unchanged',
      'monitoring/obsctl-ingress-tls': 'unchanged',
      'logging/obsctl-ingress-tls': 'unchanged',
    })
    for (const c of r.clusters) expect((c as {secrets: {action: string}[]}).secrets.every((s) => s.action === 'unchanged')).toBe(true)
    expect(fleet.map(rvOf)).toEqual(before)
    for (const s of fleet) expect(s.requestLog.filter((e) => e.method !== 'GET')).toEqual([])
  })

  it('a host the certificate lacks (a new endpoints.opensearch) reissues just that certificate, from the same CA', async () => {
    const caBefore = readFileSync(caFiles(tdir).crt, 'utf8')
    const oldOs = dec(secret(fleet[0]!, 'logging', 'opensearch-http-tls')!.data['tls.crt']!)
    const ingressRv = TLS.slice(1).map((t) => secret(fleet[0]!, t.ns, t.name)!.metadata.resourceVersion)
    const edgeRvs = fleet.slice(1).map(rvOf)
    writeFileSync(invFile(), inventory('endpoints:\n  opensearch: https://logs.example.test\n'))
    tinv = loadInventory(invFile())
    const r = await secretsApply(tinv, {kubeconfig: kc, renderer: 'silent'})
    expect(r.sources['logging/opensearch-http-tls']).toBe('new from the platform CA: not valid for logs.example.test')
    const a = actions(r, 'cluster-01')
    expect(Object.entries(a).filter(([, v]) => v !== 'unchanged')).toEqual([['logging/opensearch-http-tls', 'updated']])
    const now = expectTlsSecret(fleet[0]!, 'logging', 'opensearch-http-tls', tdir, [...OPENSEARCH_SANS, 'logs.example.test'])
    expect(now.crt).not.toBe(oldOs)
    expect(readFileSync(caFiles(tdir).crt, 'utf8')).toBe(caBefore)
    expect(TLS.slice(1).map((t) => secret(fleet[0]!, t.ns, t.name)!.metadata.resourceVersion)).toEqual(ingressRv)
    expect(fleet.slice(1).map(rvOf)).toEqual(edgeRvs)
  })

  it('through the CLI, a lost CA is replaced: new certificates, Fluent Bit follows; no key or certificate in stdout, stderr or the logs', async () => {
    requireBuild()
    const oldCa = {crt: readFileSync(caFiles(tdir).crt, 'utf8'), key: readFileSync(caFiles(tdir).key, 'utf8')}
    const seen: string[] = []
    const needles = new Set<string>(pemNeedles(oldCa.key))
    for (const args of [['--verbose'], ['--json']]) {
      rmSync(path.join(tdir, '.obsctl', 'pki'), {recursive: true})
      const out = await obsctlAsync(['secrets', 'apply', '-c', invFile(), '--kubeconfig', kc, ...args], {timeoutMs: 120_000})
      expect(out.status, out.stderr).toBe(0)
      seen.push(out.stdout, out.stderr)
      const caPem = readFileSync(caFiles(tdir).crt, 'utf8')
      expect(caPem).not.toBe(oldCa.crt)
      const os = expectTlsSecret(fleet[0]!, 'logging', 'opensearch-http-tls', tdir, [...OPENSEARCH_SANS, 'logs.example.test'])
      const ing = expectTlsSecret(fleet[0]!, 'monitoring', 'obsctl-ingress-tls', tdir, INGRESS_SANS)
      for (const s of fleet) expect(dec(secret(s, 'logging', 'fluentbit-opensearch-credentials')!.data['ca.crt']!)).toBe(caPem)
      // and so does the agent edge's trust of the Thanos Receive ingress
      expect(dec(secret(fleet[1]!, 'monitoring', 'obsctl-platform-ca')!.data['ca.crt']!)).toBe(caPem)
      for (const pem of [readFileSync(caFiles(tdir).key, 'utf8'), caPem, os.crt, os.key, ing.crt, ing.key]) for (const n of pemNeedles(pem)) needles.add(n)
      if (args[0] === '--json') {
        const report = JSON.parse(out.stdout) as SecretsApplyReport
        expect(actions(report, 'cluster-01')).toMatchObject({
          'logging/opensearch-http-tls': 'updated',
          'monitoring/obsctl-ingress-tls': 'updated',
          'logging/obsctl-ingress-tls': 'updated',
          'logging/fluentbit-opensearch-credentials': 'updated',
        })
        expect(report.sources['logging/opensearch-http-tls']).toBe('new from the platform CA: signed by another CA')
        expect(report.platformCa).toEqual({file: caFiles(tdir).crt, created: true})
      } else {
        expect(out.stdout).toMatch(/logging\/opensearch-http-tls\s+ca\.crt, tls\.crt, tls\.key\s+updated/)
        expect(out.stderr).toContain(`created the platform CA ${caFiles(tdir).crt}`)
      }
    }
    const all = seen.join('\n')
    for (const n of needles) expect(all.includes(n), 'a PEM in the CLI output').toBe(false)
    const logs = path.join(tdir, '.obsctl', 'logs')
    expect(filesContaining(logs, ['tls.key']).length).toBeGreaterThan(0) // the logs exist and name keys
    expect(filesContaining(path.join(tdir, '.obsctl'), [...needles]).filter((f) => !f.startsWith(path.join(tdir, '.obsctl', 'pki')))).toEqual([])
  })
})

describe('secrets apply: a TLS Secret of your own', () => {
  const dirs: string[] = []
  const tmp = (prefix: string) => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix))
    dirs.push(d)
    return d
  }
  afterAll(() => {
    for (const d of dirs) rmSync(d, {recursive: true, force: true}) // CA keys
  })

  /** an inventory and kubeconfig over a fresh fleet, and the user's own PKI: another CA, made elsewhere */
  async function ownPkiFleet(leafHost: string) {
    const fleet = await startKubeServers(NAMES)
    const d = tmp('obsctl-secrets-own-')
    const kc = path.join(d, 'kubeconfig')
    writeFleetKubeconfig(kc, fleet)
    writeFileSync(path.join(d, 'obsctl.yaml'), inventory())
    const userCa = await ensurePlatformCa(tmp('obsctl-user-ca-'), 'corp.example')
    const leaf = await issueServerCertificate(userCa, {commonName: leafHost.split('.')[0]!, hosts: [leafHost]})
    return {fleet, d, kc, inv: loadInventory(path.join(d, 'obsctl.yaml')), userCa, leaf}
  }

  it('is left untouched (no write, same data), reported as kept; Fluent Bit trusts its ca.crt; the rest is still done', async () => {
    const {fleet, d, kc, inv: own, userCa, leaf} = await ownPkiFleet('opensearch.logging.svc')
    try {
      // its certificate created as `kubectl create secret tls` would
      const b64 = (x: string) => Buffer.from(x).toString('base64')
      fleet[0]!.seed(
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}},
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: {name: 'opensearch-http-tls', namespace: 'logging'},
          data: {'tls.crt': b64(leaf.certPem), 'tls.key': b64(leaf.keyPem), 'ca.crt': b64(userCa.certPem)},
        },
      )
      const before = secret(fleet[0]!, 'logging', 'opensearch-http-tls')!
      const beforeJson = JSON.stringify(before)

      for (let run = 0; run < 2; run++) {
        const r = await secretsApply(own, {kubeconfig: kc, renderer: 'silent'})
        const after = secret(fleet[0]!, 'logging', 'opensearch-http-tls')!
        expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion)
        expect(JSON.stringify(after)).toBe(beforeJson)
        const central = r.clusters.find((c) => c.cluster === 'cluster-01') as {secrets: {namespace: string; name: string; keys: string[]; action: string}[]}
        expect(central.secrets.filter((s) => s.name === 'opensearch-http-tls')).toEqual([
          {namespace: 'logging', name: 'opensearch-http-tls', keys: ['ca.crt', 'tls.crt', 'tls.key'], action: 'kept'},
        ])
        // listed where obsctl's own would be: after the security config, before the ingress certificates
        expect(central.secrets.map((s) => `${s.namespace}/${s.name}`).slice(4, 8)).toEqual([
          'logging/opensearch-security-config',
          'logging/opensearch-http-tls',
          'monitoring/obsctl-ingress-tls',
          'logging/obsctl-ingress-tls',
        ])
        expect(r.sources['logging/opensearch-http-tls']).toBe('cluster (yours, left alone)')
        expect(r.sources.opensearchCa).toBe('logging/opensearch-http-tls on cluster-01')
        for (const s of fleet) expect(dec(secret(s, 'logging', 'fluentbit-opensearch-credentials')!.data['ca.crt']!)).toBe(userCa.certPem)
        // the ingress certificate is still obsctl's, from the platform CA
        expectTlsSecret(fleet[0]!, 'monitoring', 'obsctl-ingress-tls', d, INGRESS_SANS)
        expectTlsSecret(fleet[0]!, 'logging', 'obsctl-ingress-tls', d, INGRESS_SANS)
        if (run === 1) expect(Object.values(actions(r, 'cluster-01')).filter((a) => a !== 'unchanged' && a !== 'kept')).toEqual([])
      }
    } finally {
      await stopKubeServers(fleet)
    }
  })

  it('an ingress certificate of your own: the agent edge trusts its ca.crt', async () => {
    const {fleet, kc, inv: own, userCa, leaf} = await ownPkiFleet('*.k8s-cluster-01.lab.test')
    try {
      const b64 = (x: string) => Buffer.from(x).toString('base64')
      fleet[0]!.seed(
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'monitoring'}},
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/tls',
          metadata: {name: 'obsctl-ingress-tls', namespace: 'monitoring'},
          data: {'tls.crt': b64(leaf.certPem), 'tls.key': b64(leaf.keyPem), 'ca.crt': b64(userCa.certPem)},
        },
      )
      const r = await secretsApply(own, {kubeconfig: kc, renderer: 'silent'})
      expect(actions(r, 'cluster-01')['monitoring/obsctl-ingress-tls']).toBe('kept')
      expect(dec(secret(fleet[1]!, 'monitoring', 'obsctl-platform-ca')!.data['ca.crt']!)).toBe(userCa.certPem)
      expect(r.sources.ingressCa).toBe('monitoring/obsctl-ingress-tls on cluster-01')
    } finally {
      await stopKubeServers(fleet)
    }
  })

  it('when every TLS Secret is yours, no CA is created', async () => {
    const {fleet, d, kc, inv, leaf} = await ownPkiFleet('x.corp.example')
    try {
      const data = {'tls.crt': Buffer.from(leaf.certPem).toString('base64'), 'tls.key': Buffer.from(leaf.keyPem).toString('base64')}
      fleet[0]!.seed(
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'logging'}},
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'monitoring'}},
        ...TLS.map((t) => ({apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: {name: t.name, namespace: t.ns}, data})),
      )
      const r = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent', clusters: ['cluster-01']})
      expect(TLS.map((t) => actions(r, 'cluster-01')[`${t.ns}/${t.name}`])).toEqual(['kept', 'kept', 'kept'])
      expect(existsSync(path.join(d, '.obsctl', 'pki'))).toBe(false)
    } finally {
      await stopKubeServers(fleet)
    }
  })
})
