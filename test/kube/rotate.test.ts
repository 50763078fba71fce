/**
 * `obsctl secrets rotate` against the Kubernetes API test server (two clusters: central cluster-01, edge
 * cluster-02), the OpenSearch fake (security plugin: authinfo, internalusers GET/PUT, reserved users — shapes
 * checked against docs.opensearch.org, see test/support/opensearch-fake.ts) and the Grafana fake (User API
 * PUT /api/user/password, GET /api/user — checked against grafana.com's HTTP API reference, see
 * test/support/grafana-fake.ts). The Secrets are written first by `secrets apply`, as on a real platform.
 *
 * Fluent Bit is one OpenSearch user per cluster (fluentbit-CLUSTER), its password derived from a key
 * ($OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD, kept in central's Secret as per-cluster-key): its rotation rotates the
 * key and is checked per cluster (each Secret, each user in the fake's `users` table, each hash in the security config).
 *
 * Outcomes: the Secret values changed in every cluster that holds a copy, the consumer refuses the old password
 * and accepts the new one, the security config's bcrypt hash is the new password's, the restart annotation is on
 * the workloads (and obsctl waited for their rollout), no value in argv, the journal or the task logs, and the
 * exit codes of bad input and of a rotation that could not be verified (finished by the next run).
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import YAML from 'yaml'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {RESTARTED_AT, ROTATION} from '../../src/lib/kube/rotate.js'
import {secretsApply} from '../../src/lib/kube/secrets-apply.js'
import {secretsRotate, type SecretsRotateResult} from '../../src/lib/flows/rotate-run.js'
import {fluentbitPasswordFor} from '../../src/lib/kube/secrets/index.js'
import {obsctl, obsctlAsync, requireBuild} from '../cli/helpers.js'
import {startGrafanaFake, type GrafanaFake} from '../support/grafana-fake.js'
import {startFake, type FakeServer} from '../support/http-fake.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import type {OpenSearchFake} from '../support/opensearch-fake.js'
import {filesContaining} from './fixtures.js'
import {bcryptRoundsAsked} from '../support/fast-bcrypt.js'
import {rejection} from '../support/errors.js'
import {platformTls, tlsRequest, startPlatformOpenSearch} from '../support/platform-tls.js'

const NAMES = ['cluster-01', 'cluster-02']
const S3 = {access: 'AKIA-obsctl-rotate-7Q2', secret: 'sEcReT-s3-rotate-Zx81'}
const PW = {admin: 'os-Root-Pw-91kd', fluentbit: 'fb-Pw-k2j3-obsctl', grafana: 'graf-Pw-a8s7-obsctl'}
const ARGO_FIRST = 'argoFirstPw8Kq2'
const ENV = {grafana: 'OBSCTL_GRAFANA_ADMIN_PASSWORD', admin: 'OBSCTL_OPENSEARCH_ADMIN_PASSWORD', fluentbit: 'OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD'}

let servers: KubeServer[]
let dir: string
let kubeconfig: string
let inv: LoadedInventory
let osFake: OpenSearchFake
let grafana: GrafanaFake
let argocd: FakeServer
/** the platform CA that signed the fakes' certificates (obsctl sends these consumers credentials over verified https only) */
let ca: string
let controller: NodeJS.Timeout
/** every password value a test used: none may reach .obsctl/ */
const seen = new Set<string>([...Object.values(PW), ARGO_FIRST, ...NAMES.map((n) => fluentbitPasswordFor(PW.fluentbit, n))])
/** a Fluent Bit key and the password it derives for each cluster: none may reach .obsctl/ */
function seeKey(key: string): void {
  seen.add(key)
  for (const n of NAMES) seen.add(fluentbitPasswordFor(key, n))
}
const saved: Record<string, string | undefined> = {}

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}

const secretOf = (s: KubeServer, ns: string, name: string) => s.getObject('secrets', ns, name) as {data: Record<string, string>} | undefined
const value = (s: KubeServer, ns: string, name: string, key: string) => {
  const b64 = secretOf(s, ns, name)?.data[key]
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
}
const basic = (u: string, p: string) => ({authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`})
/** what the consumer says about a password: its HTTP status */
async function grafanaStatus(pw: string): Promise<number> {
  return (await tlsRequest(`${grafana.url}/api/user`, ca, {headers: basic('admin', pw)})).status
}
async function opensearchStatus(user: string, pw: string): Promise<number> {
  return (await tlsRequest(`${osFake.url}/_plugins/_security/authinfo`, ca, {headers: basic(user, pw)})).status
}

const WORKLOADS = [
  {cluster: 'cluster-01', kind: 'Deployment', resource: 'deployments', name: 'opensearch-cluster-dashboards'},
  ...NAMES.flatMap((cluster) => [
    {cluster, kind: 'Deployment', resource: 'deployments', name: 'fluent-operator'},
    {cluster, kind: 'DaemonSet', resource: 'daemonsets', name: 'fluent-bit'},
  ]),
]
const server = (name: string) => servers[NAMES.indexOf(name)]!
const workload = (w: (typeof WORKLOADS)[number]) =>
  server(w.cluster).getObject(w.resource, 'logging', w.name) as {
    metadata: {generation?: number}
    spec: {template: {metadata?: {annotations?: Record<string, string>}}}
    status?: {observedGeneration?: number}
  }
const restartedAt = (w: (typeof WORKLOADS)[number]) => workload(w).spec.template.metadata?.annotations?.[RESTARTED_AT]

function podTemplate(name: string) {
  return {metadata: {labels: {'app.kubernetes.io/name': name}}, spec: {containers: [{name, image: `example/${name}:1`}]}}
}

/** the OpenSearch operator's securityadmin run, played by the test: load internal_users.yml's hashes into OpenSearch */
function loadSecurityConfig(): void {
  const text = value(servers[0]!, 'logging', 'opensearch-security-config', 'internal_users.yml')
  if (!text) return
  const users = YAML.parse(text) as Record<string, {hash?: string; reserved?: boolean; backend_roles?: string[]}>
  for (const [name, u] of Object.entries(users)) {
    if (name === '_meta' || !u.hash) continue
    const cur = osFake.users[name]
    if (cur?.hash === u.hash) continue
    osFake.users[name] = {hash: u.hash, reserved: u.reserved, backend_roles: u.backend_roles ?? []}
  }
}

beforeAll(async () => {
  servers = await startKubeServers(NAMES)
  for (const s of servers) s.addReadyNode(`${s.name}-node`)
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-rotate-'))
  kubeconfig = path.join(dir, 'kubeconfig')
  writeFleetKubeconfig(kubeconfig, servers)
  // the consumers serve https with a certificate from the platform CA beside the inventory (secrets apply finds it there)
  const tls = await platformTls(dir, 'lab.test')
  ca = tls.ca
  const serving = {cert: tls.cert, key: tls.key}
  osFake = await startPlatformOpenSearch(tls, {user: 'admin', password: PW.admin})
  grafana = await startGrafanaFake({adminPassword: PW.grafana, tls: serving})
  // argocd-server's session API (the shapes of test/validate/deployed.ts's stand-in: 200 {token}, 401 {error,
  // code: 16, message}), checking the password as argocd-server does: against argocd-secret admin.password
  // (bcrypt), read live from the central cluster
  argocd = await startFake(
    [
      [
        'POST',
        /^\/api\/v1\/session$/,
        (req) => {
          const body = JSON.parse(req.body || '{}') as {username?: string; password?: string}
          const hash = value(servers[0]!, 'argocd', 'argocd-secret', 'admin.password')
          const ok = body.username === 'admin' && hash !== undefined && bcrypt.compareSync(body.password ?? '', hash)
          return ok
            ? {json: {token: 'eyJhbGciOiJIUzI1NiJ9.session.sig'}}
            : {status: 401, json: {error: 'Invalid username or password', code: 16, message: 'Invalid username or password'}}
        },
      ],
    ],
    {tls: serving},
  )
  const invFile = path.join(dir, 'obsctl.yaml')
  writeFileSync(
    invFile,
    `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: lab.test
s3:
  endpoint: https://s3.minio.lab.test:9000
  region: eu-west-1
  buckets: {}
git:
  remote: https://git.lab.test/platform.git
endpoints:
  grafana: ${grafana.url}
  argocd: ${argocd.url}
  opensearch: ${osFake.url}
clusters:
${NAMES.map(
  (n, i) => `  - name: ${n}
    id: "0${i + 1}"
    role: ${i === 0 ? 'central' : 'edge'}
    apiServer: https://127.0.0.${i + 1}:6443
    nodes:
      - {host: 10.0.0.${i + 1}, cpu: 4, memory: 16Gi}`,
).join('\n')}
`,
  )
  inv = loadInventory(invFile)
  setEnv({
    OBSCTL_S3_ACCESS_KEY: S3.access,
    OBSCTL_S3_SECRET_KEY: S3.secret,
    [ENV.admin]: PW.admin,
    [ENV.fluentbit]: PW.fluentbit,
    [ENV.grafana]: PW.grafana,
    OBSCTL_OPENSEARCH_CA_FILE: undefined,
    CI: '1',
  })
  await secretsApply(inv, {kubeconfig, renderer: 'silent'})
  // each cluster's Fluent Bit user as the operator loads it from the security config secrets apply wrote
  for (const n of NAMES) osFake.users[`fluentbit-${n}`] = {password: fluentbitPasswordFor(PW.fluentbit, n), backend_roles: []}
  // Argo CD as its install leaves it: the first password in argocd-initial-admin-secret, its hash in argocd-secret
  servers[0]!.seed({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'argocd'}})
  servers[0]!.seed(...argocdAsInstalled(ARGO_FIRST))
  for (const w of WORKLOADS) {
    server(w.cluster).seed({
      apiVersion: 'apps/v1',
      kind: w.kind,
      metadata: {name: w.name, namespace: 'logging'},
      spec: {selector: {matchLabels: {'app.kubernetes.io/name': w.name}}, template: podTemplate(w.name)},
    })
    server(w.cluster).markRolledOut(w.resource, 'logging', w.name)
  }
  // the workload controllers, played by the test: a changed pod template is rolled out
  controller = setInterval(() => {
    for (const w of WORKLOADS) {
      const o = workload(w)
      if ((o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1)) server(w.cluster).markRolledOut(w.resource, 'logging', w.name)
    }
  }, 50)
}, 120_000)

afterAll(async () => {
  clearInterval(controller)
  setEnv(Object.fromEntries(Object.keys(saved).map((k) => [k, saved[k]])))
  await stopKubeServers(servers ?? [])
  await osFake?.close()
  await grafana?.close()
  await argocd?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

beforeEach(() =>
  setEnv({
    [ENV.admin]: undefined,
    [ENV.fluentbit]: undefined,
    [ENV.grafana]: undefined,
    OBSCTL_ARGOCD_PASSWORD: undefined,
    OBSCTL_ARGOCD_NEW_PASSWORD: undefined,
  }),
)
afterEach(() => {
  osFake.before = {}
  for (const s of [...seen]) expect(filesContaining(path.join(dir, '.obsctl'), [s]), 'a password in .obsctl/ (journal, logs)').toEqual([])
})

const rotate = (
  credentials: string[],
  o: {timeoutSeconds?: number; dryRun?: boolean; access?: {endpoints?: Record<string, string>; viaApiServer?: boolean}} = {},
) =>
  secretsRotate(inv, {
    credentials,
    kubeconfig,
    renderer: 'silent',
    pollMs: 50,
    timeoutSeconds: o.timeoutSeconds ?? 60,
    dryRun: o.dryRun,
    access: o.access,
  })

describe('secrets rotate grafana', () => {
  it('a generated password: the Secret changes, Grafana (through its API) accepts the new one and refuses the old', async () => {
    const old = value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')!
    expect(await grafanaStatus(old)).toBe(200)
    const r = await rotate(['grafana'])
    const now = value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')!
    seen.add(now)
    expect(now).not.toBe(old)
    expect(now.length).toBeGreaterThanOrEqual(24)
    expect(await grafanaStatus(old)).toBe(401)
    expect(await grafanaStatus(now)).toBe(200)
    expect(grafana.passwordChanges).toEqual([{login: 'admin', endpoint: 'PUT /api/user/password'}])
    expect(secretOf(servers[0]!, 'monitoring', 'grafana-admin-credentials')!.data['admin-password-previous']).toBeUndefined()
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-user')).toBe('admin')
    expect(r.rotated).toEqual([
      {
        credential: 'grafana',
        user: 'admin',
        source: 'generated',
        resumed: false,
        secrets: [{cluster: 'cluster-01', namespace: 'monitoring', name: 'grafana-admin-credentials', key: 'admin-password'}],
        consumer: "Grafana's API (PUT /api/user/password)",
        restarted: [],
        verified: {newAccepted: true, oldRefused: true},
      },
    ])
    expect(JSON.stringify(r)).not.toContain(now)
  })
})

describe('secrets rotate fluent-bit (the key: one derived password per cluster user)', () => {
  const FB = 'fluentbit-opensearch-credentials'
  const securityUsers = () => YAML.parse(value(servers[0]!, 'logging', 'opensearch-security-config', 'internal_users.yml')!) as Record<string, {hash: string}>

  it('from its env var: each cluster’s Secret its own derived password, each user changed in OpenSearch and the security config, Fluent Bit restarted', async () => {
    const next = 'fb-Rotated-Pw-55x'
    seeKey(next)
    setEnv({[ENV.fluentbit]: next})
    const before = WORKLOADS.map((w) => workload(w).metadata.generation ?? 1)
    const updates = osFake.userUpdates.length
    const r = await rotate(['fluent-bit'])
    // the key: only in central's Secret, the old one gone once verified
    expect(value(servers[0]!, 'logging', FB, 'per-cluster-key')).toBe(next)
    expect(secretOf(servers[0]!, 'logging', FB)!.data['per-cluster-key-previous']).toBeUndefined()
    expect(secretOf(servers[1]!, 'logging', FB)!.data['per-cluster-key']).toBeUndefined()
    for (const [i, n] of NAMES.entries()) {
      const s = servers[i]!
      expect(value(s, 'logging', FB, 'username'), n).toBe(`fluentbit-${n}`)
      expect(value(s, 'logging', FB, 'password'), n).toBe(fluentbitPasswordFor(next, n))
      expect(value(s, 'logging', FB, 'ca.crt'), n).toMatch(/BEGIN CERTIFICATE/) // the other keys kept
      expect(await opensearchStatus(`fluentbit-${n}`, fluentbitPasswordFor(PW.fluentbit, n)), n).toBe(401)
      expect(await opensearchStatus(`fluentbit-${n}`, fluentbitPasswordFor(next, n)), n).toBe(200)
      expect(bcrypt.compareSync(fluentbitPasswordFor(next, n), securityUsers()[`fluentbit-${n}`]!.hash), n).toBe(true)
    }
    expect(fluentbitPasswordFor(next, 'cluster-01')).not.toBe(fluentbitPasswordFor(next, 'cluster-02'))
    expect(osFake.userUpdates.slice(updates)).toEqual(
      NAMES.map((n) => ({
        user: `fluentbit-${n}`,
        status: 200,
        body: {password: `(${fluentbitPasswordFor(next, n).length} characters)`, backend_roles: [], attributes: {}, opendistro_security_roles: []},
      })),
    )
    expect(bcrypt.compareSync(PW.admin, securityUsers().admin!.hash)).toBe(true) // the others untouched
    const mapping = YAML.parse(value(servers[0]!, 'logging', 'opensearch-security-config', 'roles_mapping.yml')!) as Record<string, {users?: string[]}>
    expect(mapping.fluentbit_writer!.users).toEqual(NAMES.map((n) => `fluentbit-${n}`))
    const fbWorkloads = WORKLOADS.filter((w) => w.name !== 'opensearch-cluster-dashboards')
    for (const w of fbWorkloads) expect(Date.parse(restartedAt(w)!), `${w.cluster} ${w.name}`).toBeGreaterThan(Date.now() - 120_000)
    expect(restartedAt(WORKLOADS[0]!)).toBeUndefined() // Dashboards does not use this credential
    WORKLOADS.forEach((w, i) => expect(workload(w).metadata.generation).toBe(before[i]! + (w.name === 'opensearch-cluster-dashboards' ? 0 : 1)))
    expect(r.rotated[0]).toMatchObject({
      credential: 'fluent-bit',
      source: '$OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD',
      resumed: false,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(r.rotated[0]!.users).toEqual(NAMES.map((n) => ({cluster: n, user: `fluentbit-${n}`, newAccepted: true, oldRefused: true})))
    expect(r.rotated[0]!.secrets.map((x) => `${x.cluster} ${x.key}`)).toEqual(['cluster-01 per-cluster-key', 'cluster-01 password', 'cluster-02 password'])
    expect(r.rotated[0]!.consumer).toBe('the security API (PUT _plugins/_security/api/internalusers) and the security config Secret')
    expect(r.rotated[0]!.restarted.map((x) => `${x.cluster} ${x.kind} ${x.name}`)).toEqual([
      'cluster-01 Deployment fluent-operator',
      'cluster-01 DaemonSet fluent-bit',
      'cluster-02 Deployment fluent-operator',
      'cluster-02 DaemonSet fluent-bit',
    ])
    expect(JSON.stringify(r)).not.toContain(next)
  })

  it('one cluster’s user missing in OpenSearch: the other is rotated and verified, exit 1 with the old key kept; the next run finishes it', async () => {
    const oldKey = value(servers[0]!, 'logging', FB, 'per-cluster-key')!
    const edgeUser = osFake.users['fluentbit-cluster-02']!
    delete osFake.users['fluentbit-cluster-02']
    const e = await rejection(rotate(['fluent-bit']))
    expect(e).toMatchObject({exitCode: 1})
    expect(e.message).toMatch(/cluster-02: OpenSearch has no user fluentbit-cluster-02/)
    const newKey = value(servers[0]!, 'logging', FB, 'per-cluster-key')!
    seeKey(newKey)
    expect(newKey).not.toBe(oldKey)
    expect(value(servers[0]!, 'logging', FB, 'per-cluster-key-previous')).toBe(oldKey)
    // cluster-01 follows the new key; cluster-02's Secret still has the password of the old one
    expect(value(servers[0]!, 'logging', FB, 'password')).toBe(fluentbitPasswordFor(newKey, 'cluster-01'))
    expect(await opensearchStatus('fluentbit-cluster-01', fluentbitPasswordFor(newKey, 'cluster-01'))).toBe(200)
    expect(await opensearchStatus('fluentbit-cluster-01', fluentbitPasswordFor(oldKey, 'cluster-01'))).toBe(401)
    expect(value(servers[1]!, 'logging', FB, 'password')).toBe(fluentbitPasswordFor(oldKey, 'cluster-02'))
    const fb = (cluster: string) => WORKLOADS.filter((w) => w.cluster === cluster && w.name !== 'opensearch-cluster-dashboards')
    const doneAt = fb('cluster-01').map(restartedAt)
    expect(doneAt.every(Boolean)).toBe(true)

    // the user is back (as the operator loads it): a new env value waits, the pending key is finished
    osFake.users['fluentbit-cluster-02'] = edgeUser
    setEnv({[ENV.fluentbit]: 'fb-Waiting-Pw-77q'})
    seeKey('fb-Waiting-Pw-77q')
    const r = await rotate(['fluent-bit'])
    expect(r.rotated[0]).toMatchObject({
      credential: 'fluent-bit',
      source: 'pending in the Secret',
      resumed: true,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(r.rotated[0]!.users!.map((u) => [u.user, u.newAccepted, u.oldRefused])).toEqual(NAMES.map((n) => [`fluentbit-${n}`, true, true]))
    expect(value(servers[0]!, 'logging', FB, 'per-cluster-key')).toBe(newKey)
    expect(value(servers[0]!, 'logging', FB, 'per-cluster-key-previous')).toBeUndefined()
    expect(value(servers[0]!, 'logging', FB, 'per-cluster-key-rotation')).toBeUndefined()
    // cluster-01's Fluent Bit, restarted for this rotation by the first run, is not restarted again; cluster-02's is
    expect(fb('cluster-01').map(restartedAt)).toEqual(doneAt)
    expect(r.rotated[0]!.restarted.map((w) => [w.cluster, w.name, w.byEarlierRun ?? false])).toEqual([
      ['cluster-01', 'fluent-operator', true],
      ['cluster-01', 'fluent-bit', true],
      ['cluster-02', 'fluent-operator', false],
      ['cluster-02', 'fluent-bit', false],
    ])
    for (const w of fb('cluster-02'))
      expect(workload(w).spec.template.metadata?.annotations?.[ROTATION], w.name).toBe(
        workload(fb('cluster-01')[0]!).spec.template.metadata?.annotations?.[ROTATION],
      )
    for (const [i, n] of NAMES.entries()) {
      expect(value(servers[i]!, 'logging', FB, 'password'), n).toBe(fluentbitPasswordFor(newKey, n))
      expect(await opensearchStatus(`fluentbit-${n}`, fluentbitPasswordFor(newKey, n)), n).toBe(200)
      expect(await opensearchStatus(`fluentbit-${n}`, fluentbitPasswordFor(oldKey, n)), n).toBe(401)
      expect(bcrypt.compareSync(fluentbitPasswordFor(newKey, n), securityUsers()[`fluentbit-${n}`]!.hash), n).toBe(true)
    }
  })
})

describe('secrets rotate opensearch (a reserved user: the operator’s reload makes it take effect)', () => {
  it('not verifiable (the operator never reloads): exit 1 after --timeout, the pair kept pending; the next run finishes it', async () => {
    osFake.users.admin = {...osFake.users.admin!, reserved: true}
    const old = value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password')!
    const e = await rejection(rotate(['opensearch'], {timeoutSeconds: 2}))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(
      /timed out after 2s waiting for opensearch to accept the new OpenSearch admin password and refuse the old one: opensearch: new password refused/,
    )
    const pending = value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password')!
    seen.add(pending)
    expect(pending).not.toBe(old)
    expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous')).toBe(old)
    expect(osFake.userUpdates.at(-1)).toMatchObject({user: 'admin', status: 403})
    const users = YAML.parse(value(servers[0]!, 'logging', 'opensearch-security-config', 'internal_users.yml')!)
    expect(bcrypt.compareSync(pending, users.admin.hash)).toBe(true)

    // the operator loads the security config between obsctl's read of the user and its change (the old admin
    // password refused at the PUT: the rotation taking effect); a new env value waits for the pending one
    osFake.before['internaluser-put'] = loadSecurityConfig
    setEnv({[ENV.admin]: 'Another-Root-Pw-9z'})
    seen.add('Another-Root-Pw-9z')
    const r = await rotate(['opensearch'])
    expect(r.rotated[0]).toMatchObject({
      credential: 'opensearch',
      source: 'pending in the Secret',
      resumed: true,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password')).toBe(pending)
    expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous')).toBeUndefined()
    expect(await opensearchStatus('admin', old)).toBe(401)
    expect(await opensearchStatus('admin', pending)).toBe(200)
    expect(Date.parse(restartedAt(WORKLOADS[0]!)!)).toBeGreaterThan(Date.now() - 120_000) // Dashboards restarted
    // restarted by the first run for this rotation: not again
    expect(r.rotated[0]!.restarted.map((x) => [x.name, x.byEarlierRun])).toEqual([['opensearch-cluster-dashboards', true]])
    expect(r.rotated[0]!.consumer).toMatch(/loaded by the operator/)
  })

  it('a resumed rotation finishes wherever the operator’s reload falls: before the run, or between two of its requests', async () => {
    const windows: [string, (load: () => void) => void, RegExp][] = [
      ['before the run', (load) => load(), /already accepts it/],
      ['at the read of the user', (load) => (osFake.before['internaluser-get'] = load), /loaded by the operator/],
      ['at the change of the user', (load) => (osFake.before['internaluser-put'] = load), /loaded by the operator/],
    ]
    for (const [i, [when, operatorLoads, consumer]] of windows.entries()) {
      const next = `Next-Root-Pw-${i}x7Q`
      seen.add(next)
      setEnv({[ENV.admin]: next})
      const e = await rejection(rotate(['opensearch'], {timeoutSeconds: 2}))
      expect(e.exitCode, when).toBe(1)
      const old = value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous')!
      expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password'), when).toBe(next)
      setEnv({[ENV.admin]: undefined})
      operatorLoads(loadSecurityConfig)
      const r = await rotate(['opensearch'])
      osFake.before = {}
      expect(r.rotated[0], when).toMatchObject({source: 'pending in the Secret', resumed: true, verified: {newAccepted: true, oldRefused: true}})
      expect(r.rotated[0]!.consumer, when).toMatch(consumer)
      expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous'), when).toBeUndefined()
      expect([await opensearchStatus('admin', old), await opensearchStatus('admin', next)], when).toEqual([401, 200])
    }
  })
})

describe('secrets rotate argocd', () => {
  const session = async (password: string) =>
    (await tlsRequest(`${argocd.url}/api/v1/session`, ca, {method: 'POST', body: JSON.stringify({username: 'admin', password})})).status

  it('generated (shown once, in the result only): the hash in argocd-secret, the initial secret deleted, new accepted and old refused', async () => {
    expect(await session(ARGO_FIRST)).toBe(200)
    const costs = bcryptRoundsAsked().length
    const r = await rotate(['argocd'])
    // Argo CD's own cost (the workers hash at cost 4: test/support/fast-bcrypt.ts)
    expect(bcryptRoundsAsked().slice(costs)).toEqual([10])
    const next = r.generatedPasswords!.argocd
    seen.add(next)
    expect(next).toMatch(/^[A-Za-z2-9]{24}$/)
    expect(await session(next)).toBe(200)
    expect(await session(ARGO_FIRST)).toBe(401)
    expect(secretOf(servers[0]!, 'argocd', 'argocd-initial-admin-secret')).toBeUndefined()
    // kept pending while the run worked, dropped once the result holds it
    expect(secretOf(servers[0]!, 'argocd', 'obsctl-admin-password-rotation')).toBeUndefined()
    expect(value(servers[0]!, 'argocd', 'argocd-secret', 'server.secretkey')).toBe('k') // the rest of argocd-secret kept
    expect(value(servers[0]!, 'argocd', 'argocd-secret', 'admin.passwordMtime')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(r.rotated[0]).toMatchObject({credential: 'argocd', source: 'generated', verified: {newAccepted: true, oldRefused: true}})
    expect(JSON.stringify(r.rotated)).not.toContain(next)

    // the next rotation needs the current password from the env (the initial secret is gone), and proves it first
    const e = await rejection(rotate(['argocd']))
    expect(e).toMatchObject({exitCode: 2, code: 'ROTATE_NO_OLD'})
    expect(e.hints[0]).toMatch(/export OBSCTL_ARGOCD_PASSWORD=/)
    setEnv({OBSCTL_ARGOCD_PASSWORD: 'not-the-Current-1', OBSCTL_ARGOCD_NEW_PASSWORD: 'argoThirdPw5Tz'})
    seen.add('argoThirdPw5Tz')
    expect(await rejection(rotate(['argocd']))).toMatchObject({exitCode: 2, code: 'ROTATE_OLD_REFUSED'})
    expect(await session(next)).toBe(200) // nothing changed
    setEnv({OBSCTL_ARGOCD_PASSWORD: next})
    const again = await rotate(['argocd'])
    expect(again.generatedPasswords).toBeUndefined()
    expect(again.rotated[0]).toMatchObject({source: '$OBSCTL_ARGOCD_NEW_PASSWORD', verified: {newAccepted: true, oldRefused: true}})
    expect(await session('argoThirdPw5Tz')).toBe(200)
    expect(await session(next)).toBe(401)
    expect(secretOf(servers[0]!, 'argocd', 'obsctl-admin-password-rotation')).toBeUndefined()
  })
})

describe('credentials go to a consumer over verified https only', () => {
  it('a plain-http endpoint (given past the flag parser) and the API server proxy are refused before anything is sent or changed', async () => {
    // a plain-http listener where the consumer would be: it records any request that arrives
    const arrived: string[] = []
    const listener = createServer((req, res) => {
      arrived.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`)
      res.end('{}')
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const plain = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`
    const secrets = () =>
      servers.map((s) =>
        s
          .listObjects('secrets')
          .map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)
          .join(),
      )
    const before = secrets()
    setEnv({[ENV.grafana]: 'graf-Next-Pw-4k2s', [ENV.admin]: 'os-Next-Root-Pw-7', OBSCTL_ARGOCD_NEW_PASSWORD: 'argoNextPw3Lm9'})
    for (const s of ['graf-Next-Pw-4k2s', 'os-Next-Root-Pw-7', 'argoNextPw3Lm9']) seen.add(s)
    try {
      for (const credential of ['grafana', 'opensearch', 'fluent-bit', 'argocd', 's3']) {
        const service = credential === 'fluent-bit' || credential === 's3' ? 'opensearch' : credential
        const e = await rejection(rotate([credential], {access: {endpoints: {[service]: plain}}}))
        expect(e, credential).toMatchObject({exitCode: 2, code: 'ENDPOINT_PLAIN_HTTP'})
        expect(e.message).toContain(`${service}: ${plain} is plain http`)
        expect(e.hints[0]).toBe(`--endpoint ${service}=https://…`)
      }
      // --via-api-server without an https --endpoint: the API server's proxy would not verify the consumer's certificate
      server('cluster-01').clearRequestLog()
      for (const [credential, code] of [
        ['argocd', 'CREDENTIALS_VIA_PROXY'],
        ['grafana', 'CREDENTIALS_VIA_PROXY'],
        ['opensearch', 'CREDENTIALS_VIA_PROXY'],
      ] as const) {
        const e = await rejection(rotate([credential], {access: {viaApiServer: true}}))
        expect(e, credential).toMatchObject({exitCode: 2, code})
        expect(e.hints[0]).toMatch(new RegExp(`^pass --endpoint ${credential}=https://… as well`))
      }
      expect(server('cluster-01').requestLog.filter((r) => r.path.includes('/proxy'))).toEqual([])
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()))
    }
    expect(arrived).toEqual([])
    expect(secrets()).toEqual(before)
  })
})

describe('bad input and dry runs', () => {
  it('exit 2 naming the fix: an unknown credential, a weak env value, the current value again', async () => {
    expect(await rejection(rotate(['s3cret']))).toMatchObject({exitCode: 2, code: 'BAD_ARGS', message: 'cannot rotate s3cret'})
    setEnv({[ENV.grafana]: 'short'})
    const weak = await rejection(rotate(['grafana']))
    expect(weak).toMatchObject({exitCode: 2, code: 'WEAK_PASSWORD'})
    expect(weak.message).toMatch(/^\$OBSCTL_GRAFANA_ADMIN_PASSWORD \(Grafana admin password\) has 5 character/)
    const current = value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')!
    setEnv({[ENV.grafana]: current})
    const same = await rejection(rotate(['grafana']))
    expect(same).toMatchObject({exitCode: 2, code: 'ROTATE_SAME_VALUE'})
    expect(same.message).not.toContain(current)
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')).toBe(current)
  })

  it('--dry-run: where each value would come from and the steps; nothing touched', async () => {
    const before = servers.map((s) =>
      s
        .listObjects('secrets')
        .map((o) => o.metadata.resourceVersion)
        .join(),
    )
    const requests = grafana.requests.length + osFake.requests.length
    const r = await rotate(['fluent-bit', 'grafana'], {dryRun: true})
    expect(r.plan!.map((p) => [p.credential, p.source])).toEqual([
      ['grafana', 'generated'],
      ['fluent-bit', 'generated'],
    ])
    expect(r.plan![1]!.steps).toMatch(
      /Secret logging\/fluentbit-opensearch-credentials on cluster-01, cluster-02; .*rollout restart of cluster-01 Deployment logging\/fluent-operator, cluster-01 DaemonSet logging\/fluent-bit, cluster-02/,
    )
    expect(
      servers.map((s) =>
        s
          .listObjects('secrets')
          .map((o) => o.metadata.resourceVersion)
          .join(),
      ),
    ).toEqual(before)
    expect(grafana.requests.length + osFake.requests.length).toBe(requests)
  })
})

describe('obsctl secrets rotate (built binary)', () => {
  beforeAll(() => requireBuild())

  it('--json: the result object; the value only in the Secret and Grafana, never in argv or output', async () => {
    const next = 'Graf-From-Env-Pw-31'
    seen.add(next)
    const old = value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')!
    const args = ['secrets', 'rotate', 'grafana', '--json', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig]
    const r = await obsctlAsync(args, {env: {[ENV.grafana]: next}})
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as SecretsRotateResult
    expect(out.rotated[0]).toMatchObject({credential: 'grafana', source: '$OBSCTL_GRAFANA_ADMIN_PASSWORD', verified: {newAccepted: true, oldRefused: true}})
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')).toBe(next)
    expect(await grafanaStatus(next)).toBe(200)
    expect(await grafanaStatus(old)).toBe(401)
    expect(r.stdout + r.stderr).not.toContain(next)
    expect(r.stdout + r.stderr).not.toContain(old)
    expect(args.join(' ')).not.toContain(next)
  })

  it('bad input: exit 2 naming the choices', async () => {
    const r = await obsctlAsync(['secrets', 'rotate', 'vault', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/cannot rotate vault\n\s+→ one or more of: grafana, opensearch, fluent-bit, argocd, s3/)
  })
})

describe('killed (SIGKILL) and rerun (built binary)', () => {
  beforeAll(() => requireBuild())
  const args = (credential: string) => ['secrets', 'rotate', credential, '--json', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig]
  const journal = (credential: string) =>
    (JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {status: string}>}).tasks[`rotate/${credential}`]
      ?.status

  it('Grafana, killed once it took the new password: the value was recorded first (pending in the Secret), so the rerun finishes that rotation', async () => {
    const old = value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')!
    const next = 'Graf-Killed-Pw-48q'
    seen.add(next)
    const changes = grafana.passwordChanges.length
    const killed = await obsctl(args('grafana'), {env: {[ENV.grafana]: next, OBSCTL_TEST_KILL_AT: 'rotate:consumer-changed'}})
    expect(killed.status, killed.stderr).toBeNull()
    expect(await grafanaStatus(next)).toBe(200)
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')).toBe(next)
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password-previous')).toBe(old)
    expect(journal('grafana')).toBe('running')

    // the rerun, without the env var (it would generate a value): the pending rotation is finished, not a new one begun
    const again = await obsctl(args('grafana'))
    expect(again.status, again.stderr).toBe(0)
    const out = JSON.parse(again.stdout) as SecretsRotateResult
    expect(out.rotated[0]).toMatchObject({
      credential: 'grafana',
      source: 'pending in the Secret',
      resumed: true,
      consumer: 'grafana already accepts it',
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(grafana.passwordChanges.length).toBe(changes + 1)
    expect(value(servers[0]!, 'monitoring', 'grafana-admin-credentials', 'admin-password')).toBe(next)
    expect(secretOf(servers[0]!, 'monitoring', 'grafana-admin-credentials')!.data['admin-password-previous']).toBeUndefined()
    expect([await grafanaStatus(next), await grafanaStatus(old)]).toEqual([200, 401])
    expect(journal('grafana')).toBe('done')
  })

  it('Argo CD, a generated password, killed once Argo CD took its hash: the rerun finishes that rotation and shows that password (it is not lost)', async () => {
    const session = async (password: string) =>
      (await tlsRequest(`${argocd.url}/api/v1/session`, ca, {method: 'POST', body: JSON.stringify({username: 'admin', password})})).status
    // Argo CD as its install leaves it
    const first = 'argoKillFirst6Rt'
    seen.add(first)
    servers[0]!.seed(...argocdAsInstalled(first))
    expect(await session(first)).toBe(200)
    const killed = await obsctl(args('argocd'), {env: {OBSCTL_TEST_KILL_AT: 'rotate:consumer-changed'}})
    expect(killed.status, killed.stderr).toBeNull()
    // Argo CD has the generated password's hash, and no output showed that password
    expect(await session(first)).toBe(401)

    const again = await obsctl(args('argocd'))
    expect(again.status, again.stderr).toBe(0)
    const out = JSON.parse(again.stdout) as SecretsRotateResult
    const shown = out.generatedPasswords?.argocd ?? ''
    seen.add(shown)
    expect(shown).toMatch(/^[A-Za-z2-9]{24}$/)
    expect([await session(shown), await session(first)]).toEqual([200, 401])
    expect(out.rotated[0]).toMatchObject({
      credential: 'argocd',
      source: 'pending in the Secret',
      resumed: true,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(JSON.stringify(out.rotated)).not.toContain(shown)
    expect(killed.stdout + killed.stderr).not.toContain(shown)
    // shown: nothing of the rotation is left in the cluster but Argo CD's hash
    expect(servers[0]!.listObjects('secrets', 'argocd').map((o) => o.metadata.name)).toEqual(['argocd-secret'])
    expect(journal('argocd')).toBe('done')
  })

  it('two credentials, killed during the second: the rerun does not rotate the first again (done by the killed run) and finishes the second; a third run rotates the first again', async () => {
    const GS = ['monitoring', 'grafana-admin-credentials'] as const
    const version = () => (server('cluster-01').getObject('secrets', ...GS) as {metadata: {resourceVersion: string}}).metadata.resourceVersion
    const grafanaBefore = value(servers[0]!, ...GS, 'admin-password')!
    const osBefore = value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password')!
    const changes = grafana.passwordChanges.length
    const two = ['secrets', 'rotate', 'grafana', 'opensearch', '--json', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig]
    // the second consumer change: OpenSearch's admin (reserved: the operator's reload of the security config makes it take effect)
    const killed = await obsctl(two, {env: {OBSCTL_TEST_KILL_AT: 'rotate:consumer-changed:2'}})
    expect(killed.status, killed.stderr).toBeNull()
    const rotated = value(servers[0]!, ...GS, 'admin-password')!
    const osNext = value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password')!
    seen.add(rotated).add(osNext)
    expect(rotated).not.toBe(grafanaBefore)
    expect(value(servers[0]!, ...GS, 'admin-password-previous')).toBeUndefined() // Grafana's rotation finished
    expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous')).toBe(osBefore) // OpenSearch's pending
    expect([journal('grafana'), journal('opensearch')]).toEqual(['done', 'running'])
    const killedRun = (JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {runId: string}>}).tasks[
      'rotate/grafana'
    ]!.runId
    const grafanaVersion = version()
    expect(grafana.passwordChanges.length).toBe(changes + 1)

    // a dry run says so from the journal alone: Grafana done by the killed run, OpenSearch to be rotated
    const dry = await obsctl([...two, '--dry-run'])
    expect(dry.status, dry.stderr).toBe(0)
    const plan = (JSON.parse(dry.stdout) as SecretsRotateResult).plan!
    expect(plan.map((p) => [p.credential, p.byEarlierRun])).toEqual([
      ['grafana', killedRun],
      ['opensearch', undefined],
    ])
    expect(plan[0]!.steps).toMatch(/^none: rotated and verified by the interrupted run /)

    // the operator loads the security config; the rerun is the same command line (it would generate new values)
    loadSecurityConfig()
    const again = await obsctl(two)
    expect(again.status, again.stderr).toBe(0)
    const out = JSON.parse(again.stdout) as SecretsRotateResult
    expect(out.rotated[0]).toMatchObject({credential: 'grafana', byEarlierRun: killedRun, verified: {newAccepted: true, oldRefused: true}})
    expect(out.rotated[1]).toMatchObject({
      credential: 'opensearch',
      source: 'pending in the Secret',
      resumed: true,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(out.rotated[1]!.byEarlierRun).toBeUndefined()
    // Grafana: not changed again (no password change, its Secret not written)
    expect(grafana.passwordChanges.length).toBe(changes + 1)
    expect(version()).toBe(grafanaVersion)
    expect([await grafanaStatus(rotated), await grafanaStatus(grafanaBefore)]).toEqual([200, 401])
    expect([await opensearchStatus('admin', osNext), await opensearchStatus('admin', osBefore)]).toEqual([200, 401])
    expect(value(servers[0]!, 'logging', 'opensearch-admin-credentials', 'password-previous')).toBeUndefined()

    // the rerun finished: rotating Grafana again is a new rotation
    const third = await rotate(['grafana'])
    const thirdPw = value(servers[0]!, ...GS, 'admin-password')!
    seen.add(thirdPw)
    expect(third.rotated[0]).toMatchObject({credential: 'grafana', source: 'generated', resumed: false})
    expect(third.rotated[0]!.byEarlierRun).toBeUndefined()
    expect(thirdPw).not.toBe(rotated)
    expect(grafana.passwordChanges.length).toBe(changes + 2)
    expect([await grafanaStatus(thirdPw), await grafanaStatus(rotated)]).toEqual([200, 401])
  })

  it('two credentials, stopped between them (Ctrl-C, or killed) with the first done and the second not started: the rerun does not rotate the first again', async () => {
    // the second credential is Argo CD: no workload restarts (Fluent Bit's four each waited the built CLI's 1-s
    // rollout poll, ~10 s for this case), and its state is plain to check: the hash argocd-server reads, the
    // initial secret, obsctl's pending Secret
    const GS = ['monitoring', 'grafana-admin-credentials'] as const
    const session = async (password: string) =>
      (await tlsRequest(`${argocd.url}/api/v1/session`, ca, {method: 'POST', body: JSON.stringify({username: 'admin', password})})).status
    const argocdSecrets = () =>
      servers[0]!
        .listObjects('secrets', 'argocd')
        .map((o) => o.metadata.name)
        .sort()
    const two = ['secrets', 'rotate', 'grafana', 'argocd', '--json', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig]
    const state = () =>
      JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {
        tasks: Record<string, {status: string; runId: string}>
        phaseRuns?: Record<string, {runId: string; status: string}>
      }
    // `rotate:recorded`: Grafana's task recorded done, Argo CD's not started (with SIGINT, the run has handled it by then)
    const stops = [
      {
        how: 'Ctrl-C',
        env: {OBSCTL_TEST_KILL_AT: 'rotate:recorded', OBSCTL_TEST_KILL_SIGNAL: 'SIGINT'},
        exit: 130,
        phaseRun: 'interrupted',
        first: 'argoStopFirst3Wq',
      },
      {how: 'SIGKILL', env: {OBSCTL_TEST_KILL_AT: 'rotate:recorded'}, exit: null, phaseRun: 'running', first: 'argoStopFirst7Hn'},
    ]
    for (const stop of stops) {
      // Argo CD as its install leaves it (its current password in the initial secret, as the rerun finds it)
      seen.add(stop.first)
      servers[0]!.seed(...argocdAsInstalled(stop.first))
      const argocdHash = value(servers[0]!, 'argocd', 'argocd-secret', 'admin.password')
      const grafanaBefore = value(servers[0]!, ...GS, 'admin-password')!
      const changes = grafana.passwordChanges.length
      const stopped = await obsctl(two, {env: stop.env})
      expect(stopped.status, `${stop.how}: ${stopped.stderr}`).toBe(stop.exit)
      if (stop.exit === 130) expect(stopped.stdout + stopped.stderr).toMatch(/interrupted by SIGINT/)
      const rotated = value(servers[0]!, ...GS, 'admin-password')!
      seen.add(rotated)
      expect(rotated, stop.how).not.toBe(grafanaBefore)
      expect(grafana.passwordChanges.length, stop.how).toBe(changes + 1)
      // Argo CD untouched: no task of the stopped run, its hash and initial secret as they were, nothing pending — nothing in the journal but the run says it stopped
      expect(value(servers[0]!, 'argocd', 'argocd-secret', 'admin.password'), stop.how).toBe(argocdHash)
      expect(argocdSecrets(), stop.how).toEqual(['argocd-initial-admin-secret', 'argocd-secret'])
      expect(await session(stop.first), stop.how).toBe(200)
      const after = state()
      const stoppedRun = after.tasks['rotate/grafana']!.runId
      expect(after.tasks['rotate/grafana']!.status, stop.how).toBe('done')
      expect(after.tasks['rotate/argocd']?.runId, stop.how).not.toBe(stoppedRun)
      expect(after.phaseRuns?.rotate, stop.how).toMatchObject({runId: stoppedRun, status: stop.phaseRun})
      // a dry run reads it from the journal as the rerun will
      const dry = await obsctl([...two, '--dry-run'])
      expect(dry.status, dry.stderr).toBe(0)
      expect(
        (JSON.parse(dry.stdout) as SecretsRotateResult).plan!.map((p) => [p.credential, p.byEarlierRun]),
        stop.how,
      ).toEqual([
        ['grafana', stoppedRun],
        ['argocd', undefined],
      ])

      // the rerun, the same command line (it would generate new values): Grafana is the stopped run's, Argo CD is rotated
      const again = await obsctl(two)
      expect(again.status, `${stop.how}: ${again.stderr}`).toBe(0)
      const out = JSON.parse(again.stdout) as SecretsRotateResult
      const shown = out.generatedPasswords?.argocd ?? ''
      seen.add(shown)
      expect(out.rotated[0], stop.how).toMatchObject({credential: 'grafana', byEarlierRun: stoppedRun, verified: {newAccepted: true, oldRefused: true}})
      expect(out.rotated[1], stop.how).toMatchObject({
        credential: 'argocd',
        source: 'generated',
        resumed: false,
        verified: {newAccepted: true, oldRefused: true},
      })
      expect(out.rotated[1]!.byEarlierRun, stop.how).toBeUndefined()
      expect(shown, stop.how).toMatch(/^[A-Za-z2-9]{24}$/)
      expect([await session(shown), await session(stop.first)], stop.how).toEqual([200, 401])
      expect(argocdSecrets(), stop.how).toEqual(['argocd-secret'])
      // Grafana not rotated again: no password change, the stopped run's password still the one
      expect(grafana.passwordChanges.length, stop.how).toBe(changes + 1)
      expect(value(servers[0]!, ...GS, 'admin-password'), stop.how).toBe(rotated)
      expect([await grafanaStatus(rotated), await grafanaStatus(grafanaBefore)], stop.how).toEqual([200, 401])
      expect(state().phaseRuns?.rotate, stop.how).toMatchObject({status: 'done'})
      expect(state().phaseRuns?.rotate?.runId, stop.how).not.toBe(stoppedRun)
    }
  })
})

/** Argo CD's Secrets as its install leaves them: the first password in argocd-initial-admin-secret, its bcrypt hash in argocd-secret. */
function argocdAsInstalled(password: string) {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'argocd-initial-admin-secret', namespace: 'argocd'},
      type: 'Opaque',
      data: {password: Buffer.from(password).toString('base64')},
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: 'argocd-secret', namespace: 'argocd'},
      type: 'Opaque',
      data: {'admin.password': Buffer.from(bcrypt.hashSync(password, 10)).toString('base64'), 'server.secretkey': Buffer.from('k').toString('base64')},
    },
  ]
}
