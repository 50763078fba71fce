/**
 * secrets apply against the Kubernetes API test server, one per cluster (central + 3 edges), through the
 * merged-style kubeconfig (contexts <cluster>-context). No value may reach .obsctl/ (state, logs).
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import YAML from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {secretsApply} from '../../src/lib/kube/secrets-apply.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {writeKubeconfigFile} from '../support/kube/kubeconfig.js'
import {filesContaining} from './fixtures.js'

const NAMES = ['cluster-01', 'cluster-02', 'cluster-03', 'cluster-04']
const S3 = {access: 'AKIA-obsctl-test-7Q2', secret: 'sEcReT-s3-key-Zx81-obsctl'}
const PW = {admin: 'os-admin-Pw-91kd', fluentbit: 'fb-Pw-k2j3-obsctl', grafana: 'graf-Pw-a8s7-obsctl'}
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

function inventory(): string {
  return `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: lab.test
s3:
  endpoint: https://s3.minio.lab.test:9000
  region: eu-west-1
  buckets: {}
git:
  remote: https://git.lab.test/platform.git
clusters:
${NAMES.map((n, i) => `  - name: ${n}
    id: "0${i + 1}"
    role: ${i === 0 ? 'central' : 'edge'}
    apiServer: https://127.0.0.1:6443
    nodes:
      - {host: 10.0.0.${i + 1}, cpu: 4, memory: 16Gi}`).join('\n')}
`
}

const secret = (s: KubeServer, ns: string, name: string) => s.getObject('secrets', ns, name) as {metadata: {resourceVersion: string; labels?: Record<string, string>; managedFields?: {manager: string; operation: string}[]}; data: Record<string, string>; type: string} | undefined
const dec = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')

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
}, 60_000)

afterAll(async () => {
  setEnv(Object.fromEntries(Object.keys(env).map((k) => [k, env[k]])))
  await stopKubeServers(servers ?? [])
})

describe('secrets apply', () => {
  it('creates every Secret with the right keys and formats, namespaces included', async () => {
    const ca = path.join(dir, 'os-ca.pem')
    writeFileSync(ca, CA)
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: ca, renderer: 'silent'})
    expect(r.clusters.length).toBe(4)
    const [central, ...edges] = servers
    for (const ns of ['monitoring', 'logging', 'longhorn-system']) expect(central!.getObject('namespaces', undefined as unknown as string, ns)).toBeTruthy()

    const objstore = secret(central!, 'monitoring', 'thanos-objstore')!
    expect(Object.keys(objstore.data)).toEqual(['objstore.yml'])
    expect(YAML.parse(dec(objstore.data['objstore.yml']!))).toEqual({
      type: 'S3',
      config: {bucket: 'thanos-metrics', endpoint: 's3.minio.lab.test:9000', region: 'eu-west-1', access_key: S3.access, secret_key: S3.secret, insecure: false, bucket_lookup_type: 'path'},
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
    expect(Object.keys(security.data).sort()).toEqual(['action_groups.yml', 'allowlist.yml', 'audit.yml', 'config.yml', 'internal_users.yml', 'nodes_dn.yml', 'roles.yml', 'roles_mapping.yml', 'tenants.yml'])
    const users = YAML.parse(dec(security.data['internal_users.yml']!))
    expect(users._meta).toEqual({type: 'internalusers', config_version: 2})
    expect(bcrypt.compareSync(PW.admin, users.admin.hash)).toBe(true)
    expect(bcrypt.compareSync(PW.fluentbit, users.fluentbit.hash)).toBe(true)
    expect(YAML.parse(dec(security.data['roles_mapping.yml']!)).fluentbit_writer.users).toEqual(['fluentbit'])

    for (const s of servers) {
      const lh = secret(s, 'longhorn-system', 'longhorn-backup-credentials')!
      expect(Object.fromEntries(Object.entries(lh.data).map(([k, v]) => [k, dec(v)]))).toEqual({AWS_ACCESS_KEY_ID: S3.access, AWS_SECRET_ACCESS_KEY: S3.secret, AWS_ENDPOINTS: 'https://s3.minio.lab.test:9000'})
      const fb = secret(s, 'logging', 'fluentbit-opensearch-credentials')!
      expect(Object.fromEntries(Object.entries(fb.data).map(([k, v]) => [k, dec(v)]))).toEqual({username: 'fluentbit', password: PW.fluentbit, 'ca.crt': CA})
    }
    // edges get only Longhorn's and Fluent Bit's
    for (const e of edges) {
      expect(secret(e, 'monitoring', 'thanos-objstore')).toBeUndefined()
      expect(secret(e, 'logging', 'opensearch-admin-credentials')).toBeUndefined()
    }
    // real kubectl sees them through the same kubeconfig
    // (async: the API test servers run in this process)
    const {stdout} = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '--context', 'cluster-03-context', '-n', 'logging', 'get', 'secret', 'fluentbit-opensearch-credentials', '-o', 'jsonpath={.data.username}'], {encoding: 'utf8'})
    expect(dec(stdout)).toBe('fluentbit')
  })

  it('a rerun writes nothing: no resourceVersion moves', async () => {
    const before = servers.map((s) => s.listObjects('secrets').map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort())
    servers.forEach((s) => s.clearRequestLog())
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: path.join(dir, 'os-ca.pem'), renderer: 'silent'})
    for (const c of r.clusters) if ('secrets' in c) expect(c.secrets.every((s) => s.action === 'unchanged')).toBe(true)
    const after = servers.map((s) => s.listObjects('secrets').map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort())
    expect(after).toEqual(before)
    for (const s of servers) expect(s.requestLog.filter((e) => e.method !== 'GET')).toEqual([])
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
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: path.join(dir, 'os-ca.pem'), renderer: 'silent'})
    const json = JSON.stringify(r)
    for (const v of [...values, ...b64]) expect(json).not.toContain(v)
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
      expect(dec(secret(fresh[2]!, 'logging', 'fluentbit-opensearch-credentials')!.data.password!)).toBe(gen['Fluent Bit OpenSearch password'])
      // no CA given and none in the cluster: Fluent Bit's Secret has no ca.crt
      expect(secret(fresh[2]!, 'logging', 'fluentbit-opensearch-credentials')!.data['ca.crt']).toBeUndefined()
      expect(filesContaining(path.join(dir, '.obsctl'), Object.values(gen))).toEqual([])

      // rerun with --generate-passwords: keeps the cluster's values, generates nothing, writes nothing
      const rvs = fresh.map((s) => s.listObjects('secrets').map((o) => o.metadata.resourceVersion).sort())
      const again = await secretsApply(inv, {kubeconfig: kc, renderer: 'silent', generatePasswords: true, showGenerated: true})
      expect(again.generated).toEqual([])
      expect(again.generatedPasswords).toBeUndefined()
      expect(again.sources['OpenSearch admin password']).toBe('cluster (kept)')
      expect(fresh.map((s) => s.listObjects('secrets').map((o) => o.metadata.resourceVersion).sort())).toEqual(rvs)
    } finally {
      setEnv({OBSCTL_OPENSEARCH_ADMIN_PASSWORD: PW.admin, OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: PW.fluentbit, OBSCTL_GRAFANA_ADMIN_PASSWORD: PW.grafana})
      await stopKubeServers(fresh)
    }
  })

  it('a user without secrets permission gets a clear 403 error naming the cluster', async () => {
    const kc = path.join(dir, 'limited-kubeconfig')
    // central (where values are looked up) as admin; cluster-02 as a user that may not touch Secrets
    writeKubeconfigFile(kc, servers.map((s, i) => s.kubeconfigEntry({user: i === 1 ? 'no-secrets' : 'admin'})))
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
    expect(plan.map((s) => s.name)).toEqual(['longhorn-backup-credentials', 'fluentbit-opensearch-credentials'])
    for (const s of servers) expect(s.requestLog).toEqual([])
  })
})
