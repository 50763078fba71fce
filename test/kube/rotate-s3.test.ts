/**
 * `obsctl secrets rotate s3` against a real s3rver (test/s3/harness.ts), the Kubernetes API test server (two
 * clusters: central cluster-01, remote-scrape edge cluster-02) and the OpenSearch fake (its
 * `POST _snapshot/<repo>/_verify` answers {nodes: {<id>: {name}}}, the shape of OpenSearch's Verify Snapshot
 * Repository API, checked against docs.opensearch.org; see test/support/opensearch-fake.ts).
 *
 * s3rver keeps its key pairs in one registry (s3rver/lib/models/account.js: AWSAccount.registry, createKeyPair /
 * revokeAccessKey): it knows several pairs at once and refuses an access key it does not know
 * (InvalidAccessKeyId); the front before it (test/s3/sigv4.ts) checks V4 signatures, so an old secret key of a
 * known access key id is refused too (SignatureDoesNotMatch), as MinIO refuses it after `mc admin user svcacct
 * edit`. The tests make new pairs with a new access key id, as `mc admin user svcacct add` does, and one with the
 * same id and a new secret. A pair is "removed from MinIO" by revoking it in s3rver.
 *
 * The Prometheus and ThanosRuler CRDs are the real ones (prometheus-operator v0.86.0, ../shared/upstream
 * crds.json.gz): the test server prunes fields a schema does not have, so the restart annotation surviving on
 * spec.podMetadata.annotations shows the field exists. The Prometheus operator (copying podMetadata.annotations
 * into its StatefulSet's pod template) and the workload controllers (rolling a changed template out) are
 * played by the test.
 *
 * Outcomes: the Secrets' contents in every cluster, the restart annotations, the pending pair kept or dropped,
 * the exit codes and messages, and no secret key in the journal, the logs or the results.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import {Client} from 'minio'
import AWSAccount from 's3rver/lib/models/account.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {ObsctlError} from '../../src/lib/errors.js'
import {RESTARTED_AT, ROTATION, type RotateReport} from '../../src/lib/kube/rotate.js'
import {secretsApply} from '../../src/lib/kube/secrets-apply.js'
import {secretsRotate} from '../../src/lib/flows/rotate-run.js'
import type {RunResult} from '../../src/lib/engine/index.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import type {OpenSearchFake} from '../support/opensearch-fake.js'
import {upstream} from '../support/upstream/data.js'
import {startS3rver, type S3Peer} from '../s3/harness.js'
import {obsctlAsync, requireBuild} from '../cli/helpers.js'
import {filesContaining} from './fixtures.js'
import {taskLogFiles, taskLogsSay} from '../support/task-logs.js'
import {rejection} from '../support/errors.js'
import {platformTls, startPlatformOpenSearch} from '../support/platform-tls.js'

const NAMES = ['cluster-01', 'cluster-02']
const PAIRS = {
  first: {accessKey: 'OBSCTLS3FIRSTKEY01', secretKey: 'first-S3-secret-Qw81zz'},
  second: {accessKey: 'OBSCTLS3SECONDKEY2', secretKey: 'second-S3-secret-Lp02xx'},
  third: {accessKey: 'OBSCTLS3THIRDKEY03', secretKey: 'third-S3-secret-Mn93cc'},
  // the third key's secret changed in MinIO (mc admin user svcacct edit ALIAS KEY --secret-key …)
  edited: {accessKey: 'OBSCTLS3THIRDKEY03', secretKey: 'third-S3-secret-EDITED-Rt55vv'},
  fourth: {accessKey: 'OBSCTLS3FOURTHKEY4', secretKey: 'fourth-S3-secret-Hb47ww'},
}
const SECRET_KEYS = Object.values(PAIRS).map((p) => p.secretKey)
const PW = {admin: 'os-Root-Pw-91kd', fluentbit: 'fb-Pw-k2j3-obsctl', grafana: 'graf-Pw-a8s7-obsctl'}
const BUCKETS = ['thanos-metrics', 'opensearch-snapshots', 'longhorn-backups']

/** the StatefulSets obsctl restarts itself, and those the Prometheus operator makes of its resources */
const STATEFULSETS = [
  {namespace: 'monitoring', name: 'thanos-store'},
  {namespace: 'monitoring', name: 'thanos-compactor'},
  {namespace: 'logging', name: 'opensearch-cluster-masters'},
  {namespace: 'logging', name: 'opensearch-cluster-data'},
]
const OPERATED = [
  {kind: 'Prometheus', resource: 'prometheuses', name: 'kube-prometheus-stack-prometheus', sts: 'prometheus-kube-prometheus-stack-prometheus'},
  {kind: 'Prometheus', resource: 'prometheuses', name: 'edge-cluster-02', sts: 'prometheus-edge-cluster-02'},
  {kind: 'ThanosRuler', resource: 'thanosrulers', name: 'thanos-ruler', sts: 'thanos-ruler-thanos-ruler'},
]
const ALL_STS = [...STATEFULSETS, ...OPERATED.map((o) => ({namespace: 'monitoring', name: o.sts}))]

let servers: KubeServer[]
let s3: S3Peer
let dir: string
let kubeconfig: string
let inv: LoadedInventory
let osFake: OpenSearchFake
let controller: NodeJS.Timeout
const saved: Record<string, string | undefined> = {}

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}
const exportPair = (p: {accessKey: string; secretKey: string} | undefined) => setEnv({OBSCTL_S3_ACCESS_KEY: p?.accessKey, OBSCTL_S3_SECRET_KEY: p?.secretKey})

const central = () => servers[0]!
const value = (s: KubeServer, ns: string, name: string, key: string) => {
  const b64 = (s.getObject('secrets', ns, name) as {data: Record<string, string>} | undefined)?.data[key]
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
}
/** the pair every S3 Secret of every cluster holds (one value, or a list when they differ) */
function pairsInSecrets(): string[] {
  const seen = new Set<string>()
  const objstore = YAML.parse(value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml')!) as {config: {access_key: string; secret_key: string}}
  seen.add(`${objstore.config.access_key}:${objstore.config.secret_key}`)
  seen.add(
    `${value(central(), 'logging', 'opensearch-s3-keystore', 's3.client.default.access_key')}:${value(central(), 'logging', 'opensearch-s3-keystore', 's3.client.default.secret_key')}`,
  )
  for (const s of servers)
    seen.add(
      `${value(s, 'longhorn-system', 'longhorn-backup-credentials', 'AWS_ACCESS_KEY_ID')}:${value(s, 'longhorn-system', 'longhorn-backup-credentials', 'AWS_SECRET_ACCESS_KEY')}`,
    )
  return [...seen]
}
const pairString = (p: {accessKey: string; secretKey: string}) => `${p.accessKey}:${p.secretKey}`
const previous = () => value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml-previous')
/** an annotation (the restart time, else the one named) on a StatefulSet's pod template, and on an operator resource's pod metadata */
const stsAnnotation = (ns: string, name: string, key = RESTARTED_AT) =>
  (central().getObject('statefulsets', ns, name) as {spec: {template: {metadata?: {annotations?: Record<string, string>}}}}).spec.template.metadata
    ?.annotations?.[key]
const crAnnotation = (resource: string, name: string, key = RESTARTED_AT) =>
  (central().getObject(resource, 'monitoring', name) as {spec: {podMetadata?: {annotations?: Record<string, string>}}}).spec.podMetadata?.annotations?.[key]

function crd(key: string) {
  const c = upstream().crds[key]! as unknown as {schema: unknown; plural: string; scope: string}
  const [group, version, kind] = [key.split('/').slice(0, -2).join('/'), key.split('/').at(-2)!, key.split('/').at(-1)!]
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${c.plural}.${group}`},
    spec: {
      group,
      names: {kind, listKind: `${kind}List`, plural: c.plural, singular: kind.toLowerCase()},
      scope: c.scope,
      versions: [{name: version, served: true, storage: true, schema: {openAPIV3Schema: c.schema}, subresources: {status: {}}}],
    },
  }
}

const podTemplate = (name: string) => ({metadata: {labels: {'app.kubernetes.io/name': name}}, spec: {containers: [{name, image: `example/${name}:1`}]}})

beforeAll(async () => {
  s3 = await startS3rver()
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(PAIRS.first.accessKey, PAIRS.first.secretKey)
  const mc = new Client({
    endPoint: '127.0.0.1',
    port: s3.port,
    useSSL: false,
    accessKey: PAIRS.first.accessKey,
    secretKey: PAIRS.first.secretKey,
    region: 'us-east-1',
  })
  for (const b of BUCKETS) await mc.makeBucket(b, 'us-east-1')

  servers = await startKubeServers(NAMES)
  for (const s of servers) s.addReadyNode(`${s.name}-node`)
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-rotate-s3-'))
  kubeconfig = path.join(dir, 'kubeconfig')
  writeFleetKubeconfig(kubeconfig, servers)
  // OpenSearch gets the admin password: https from the platform CA beside the inventory (secrets apply finds it there)
  const tls = await platformTls(dir, 'lab.test')
  osFake = await startPlatformOpenSearch(tls, {user: 'admin', password: PW.admin})
  const invFile = path.join(dir, 'obsctl.yaml')
  writeFileSync(
    invFile,
    `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: lab.test
s3:
  endpoint: ${s3.url}
  region: us-east-1
  buckets: {}
git:
  remote: https://git.lab.test/platform.git
endpoints:
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
  exportPair(PAIRS.first)
  setEnv({
    OBSCTL_OPENSEARCH_ADMIN_PASSWORD: PW.admin,
    OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: PW.fluentbit,
    OBSCTL_GRAFANA_ADMIN_PASSWORD: PW.grafana,
    OBSCTL_OPENSEARCH_CA_FILE: undefined,
    CI: '1',
  })
  await secretsApply(inv, {kubeconfig, renderer: 'silent'})

  // the central workloads: the real Prometheus and ThanosRuler CRDs, their operator's StatefulSets, Thanos's and OpenSearch's
  const k = central()
  k.seed(crd('monitoring.coreos.com/v1/Prometheus') as never, crd('monitoring.coreos.com/v1/ThanosRuler') as never)
  for (const o of OPERATED)
    k.seed({apiVersion: 'monitoring.coreos.com/v1', kind: o.kind, metadata: {name: o.name, namespace: 'monitoring'}, spec: {replicas: 1}})
  for (const w of ALL_STS) {
    k.seed({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {name: w.name, namespace: w.namespace},
      spec: {serviceName: w.name, selector: {matchLabels: {'app.kubernetes.io/name': w.name}}, template: podTemplate(w.name)},
    })
    k.markRolledOut('statefulsets', w.namespace, w.name)
  }
  // the Prometheus operator (podMetadata.annotations into its StatefulSet's pod template) and the StatefulSet controller, played by the test
  controller = setInterval(() => {
    for (const o of OPERATED) {
      const want =
        (k.getObject(o.resource, 'monitoring', o.name) as {spec: {podMetadata?: {annotations?: Record<string, string>}}}).spec.podMetadata?.annotations ?? {}
      const sts = k.getObject('statefulsets', 'monitoring', o.sts) as {spec: {template: {metadata: {annotations?: Record<string, string>}}}}
      const has = sts.spec.template.metadata.annotations ?? {}
      if (Object.entries(want).some(([a, v]) => has[a] !== v)) {
        sts.spec.template.metadata.annotations = {...has, ...want}
        k.seed(sts as never)
      }
    }
    for (const w of ALL_STS) {
      const o = k.getObject('statefulsets', w.namespace, w.name) as {metadata: {generation?: number}; status?: {observedGeneration?: number}}
      if ((o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1)) k.markRolledOut('statefulsets', w.namespace, w.name)
    }
  }, 50)
}, 60_000)

afterAll(async () => {
  clearInterval(controller)
  for (const p of Object.values(PAIRS)) AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(p.accessKey)
  setEnv(Object.fromEntries(Object.keys(saved).map((k) => [k, saved[k]])))
  await stopKubeServers(servers ?? [])
  await osFake?.close()
  await s3?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

/** every progress line of the runs so far (what the progress display and CI's event lines show) */
const progress: string[] = []
const rotate = (o: {dryRun?: boolean} = {}) =>
  secretsRotate(inv, {
    credentials: ['s3'],
    kubeconfig,
    renderer: 'silent',
    pollMs: 50,
    timeoutSeconds: 30,
    dryRun: o.dryRun,
    onEvent: (e) => void (e.type === 'task-progress' && progress.push(e.line)),
  })

/** no access key id whole in a task log, a progress line or an error message: its first 4 characters (OBSC…) name it */
function expectKeysShownShort(texts: string[]): void {
  const all = [...texts, ...taskLogFiles(dir).map((f) => readFileSync(f, 'utf8')), progress.join('\n')].join('\n')
  for (const p of Object.values(PAIRS)) expect(all).not.toContain(p.accessKey)
  expect(all).toContain('OBSC…')
}

/** no secret key in .obsctl/ (journal, task logs), nor in a result or an error */
function expectNoSecretKey(text: string): void {
  for (const k of SECRET_KEYS) expect(text).not.toContain(k)
  expect(filesContaining(path.join(dir, '.obsctl'), SECRET_KEYS), 'a secret key in .obsctl/ (journal, logs)').toEqual([])
}
const errorText = (e: ObsctlError) => JSON.stringify({message: e.message, hints: e.hints})
const secretVersions = () => servers.map((s) => s.listObjects('secrets').map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`))

describe('secrets rotate s3', () => {
  it('bad input, exit 2 and nothing changed: no new pair exported; the current pair; a pair S3 does not know', async () => {
    const before = secretVersions()
    exportPair(undefined)
    const none = await rejection(rotate())
    expect(none).toMatchObject({exitCode: 2, code: 'ROTATE_NO_VALUE'})
    expect(none.hints.join('\n')).toMatch(/mc admin user svcacct add ALIAS USER\) and export OBSCTL_S3_ACCESS_KEY=… OBSCTL_S3_SECRET_KEY=…/)

    exportPair(PAIRS.first)
    const same = await rejection(rotate())
    expect(same).toMatchObject({exitCode: 2, code: 'ROTATE_SAME_VALUE'})
    expect(same.hints[0]).toMatch(/^the current key; create one in MinIO \(mc admin user svcacct add/)

    // not yet created in MinIO: S3 refuses it before anything is written
    exportPair(PAIRS.second)
    const unknown = await rejection(rotate())
    expect(unknown).toMatchObject({exitCode: 2, code: 'ROTATE_NEW_REFUSED'})
    expect(unknown.message).toContain('refuses the new key OBSC…')
    expect(secretVersions()).toEqual(before)
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.first)])
    for (const e of [none, same, unknown]) expectNoSecretKey(errorText(e))
  })

  it('--dry-run: the Secrets, the restarts and the checks; nothing touched', async () => {
    exportPair(PAIRS.second)
    const before = secretVersions()
    const requests = osFake.requests.length
    const r = await rotate({dryRun: true})
    expect(r.plan).toEqual([{credential: 's3', source: '$OBSCTL_S3_ACCESS_KEY/$OBSCTL_S3_SECRET_KEY', steps: expect.any(String) as string}])
    const steps = r.plan![0]!.steps
    expect(steps).toContain(
      'monitoring/thanos-objstore, logging/opensearch-s3-keystore, longhorn-system/longhorn-backup-credentials on cluster-01; longhorn-system/longhorn-backup-credentials on cluster-02',
    )
    expect(steps).toContain('Prometheus monitoring/edge-cluster-02 (spec.podMetadata.annotations)')
    expect(steps).toContain('StatefulSet logging/opensearch-cluster-data')
    expect(secretVersions()).toEqual(before)
    expect(osFake.requests.length).toBe(requests)
    expectNoSecretKey(JSON.stringify(r))
  })

  it('the old pair still accepted by S3: every Secret has the new one, restarts done, exit 1 naming svcacct rm; the rerun after the removal finishes', async () => {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(PAIRS.second.accessKey, PAIRS.second.secretKey)
    exportPair(PAIRS.second)
    const started = new Date().toISOString()
    const e = await rejection(rotate())
    expect(e).toMatchObject({exitCode: 1, code: 'ROTATE_OLD_ACCEPTED'})
    expect(e.message).toContain('S3 still accepts the old key OBSC…: every consumer uses the new key OBSC… now')
    // the command to run names the key whole (a hint: printed with the error, never in a task log)
    expect(e.hints[0]).toBe(`mc admin user svcacct rm ALIAS ${PAIRS.first.accessKey}, then rerun obsctl secrets rotate s3 (it finishes the pending rotation)`)
    expectKeysShownShort([e.message])
    expectNoSecretKey(errorText(e))
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.second)])
    // the pending pair: the old one kept beside the new in central's objstore.yml
    expect((YAML.parse(previous()!) as {config: {access_key: string}}).config.access_key).toBe(PAIRS.first.accessKey)
    for (const w of STATEFULSETS) expect(stsAnnotation(w.namespace, w.name)! >= started, `${w.namespace}/${w.name}`).toBe(true)
    for (const o of OPERATED) {
      expect(crAnnotation(o.resource, o.name)! >= started, `${o.kind} ${o.name}`).toBe(true)
      expect(stsAnnotation('monitoring', o.sts)).toBe(crAnnotation(o.resource, o.name))
    }

    // the rotation's id, kept with the pending pair, is on every pod template restarted for it
    const rotation = value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml-rotation')!
    expect(rotation).toMatch(/^[\w-]{16}$/)
    const restartedAt = () => [...STATEFULSETS.map((w) => stsAnnotation(w.namespace, w.name)), ...OPERATED.map((o) => crAnnotation(o.resource, o.name))]
    const first = restartedAt()
    for (const w of STATEFULSETS) expect(stsAnnotation(w.namespace, w.name, ROTATION)).toBe(rotation)
    for (const o of OPERATED) expect(crAnnotation(o.resource, o.name, ROTATION)).toBe(rotation)

    // a rerun before the removal (S3 still accepts the old pair): nothing restarted again, the rollouts waited for
    const logsBefore = new Set(taskLogFiles(dir))
    const again = await rejection(rotate())
    expect(again).toMatchObject({exitCode: 1, code: 'ROTATE_OLD_ACCEPTED'})
    expect(restartedAt()).toEqual(first)
    const restartLines = taskLogFiles(dir)
      .filter((f) => !logsBefore.has(f))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .filter((l) => /restart/.test(l))
    expect(restartLines.filter((l) => l.includes('restarted for this rotation by an earlier run'))).toHaveLength(STATEFULSETS.length + OPERATED.length)
    expect(restartLines.filter((l) => /: (rollout restart|restart through) /.test(l))).toEqual([])

    // one of central's S3 Secrets changed since (here: the old pair put back): the next run writes it and restarts everything again
    const keystore = central().getObject('secrets', 'logging', 'opensearch-s3-keystore') as {data: Record<string, string>}
    keystore.data['s3.client.default.access_key'] = Buffer.from(PAIRS.first.accessKey).toString('base64')
    central().seed(keystore as never)

    // removed from MinIO; the rerun needs no env var: the pending pair is in the Secret
    AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(PAIRS.first.accessKey)
    exportPair(undefined)
    const r = await rotate()
    for (const [i, at] of restartedAt().entries()) expect(at! > first[i]!, `restart ${i} again`).toBe(true)
    expect(r.rotated[0]!.restarted.filter((w) => w.byEarlierRun)).toEqual([])
    expect(value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml-rotation')).toBeUndefined()
    expect(r.rotated[0]).toMatchObject({
      credential: 's3',
      user: PAIRS.second.accessKey,
      source: 'pending in the Secret',
      resumed: true,
      verified: {newAccepted: true, oldRefused: true},
      repository: {name: 's3-snapshots', nodes: osFake.health.number_of_nodes},
    })
    expect(previous()).toBeUndefined()
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.second)])
    expectNoSecretKey(JSON.stringify(r))
    // the rerun took the pending pair from the Secret (no env var that would mask the new key anyway)
    expect(taskLogsSay(dir, 'verified: S3 accepts the new key OBSC… and refuses the old one OBSC…')).toBe(true)
    expectKeysShownShort([])
  })

  it('S3 knows only the new pair: one run rotates, restarts, verifies (new accepted, old refused, snapshot repository) and drops the old pair', async () => {
    // MinIO with the new key made and the old one already removed
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(PAIRS.third.accessKey, PAIRS.third.secretKey)
    AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(PAIRS.second.accessKey)
    exportPair(PAIRS.third)
    const verifies = osFake.requests.filter((q) => q.path === '/_snapshot/s3-snapshots/_verify').length
    const started = new Date().toISOString()
    const r = await rotate()
    const report = r.rotated[0]!
    expect(report).toMatchObject({
      credential: 's3',
      source: '$OBSCTL_S3_ACCESS_KEY/$OBSCTL_S3_SECRET_KEY',
      resumed: false,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.third)])
    expect(previous()).toBeUndefined()
    // objstore.yml is still what Thanos reads: the catalogue's (bucket, endpoint, path style)
    expect(YAML.parse(value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml')!)).toMatchObject({
      type: 'S3',
      config: {bucket: 'thanos-metrics', endpoint: new URL(s3.url).host, insecure: true, access_key: PAIRS.third.accessKey},
    })
    expect(value(servers[1]!, 'longhorn-system', 'longhorn-backup-credentials', 'AWS_ENDPOINTS')).toBe(s3.url)
    expect(report.secrets.filter((s) => s.cluster === 'cluster-02').map((s) => s.name)).toEqual(
      expect.arrayContaining(['longhorn-backup-credentials']) as string[],
    )
    expect(report.restarted.map((w) => `${w.kind} ${w.namespace}/${w.name}`)).toEqual([
      'StatefulSet monitoring/thanos-store',
      'StatefulSet monitoring/thanos-compactor',
      'StatefulSet logging/opensearch-cluster-masters',
      'StatefulSet logging/opensearch-cluster-data',
      'Prometheus monitoring/kube-prometheus-stack-prometheus',
      'Prometheus monitoring/edge-cluster-02',
      'ThanosRuler monitoring/thanos-ruler',
    ])
    for (const w of STATEFULSETS) expect(stsAnnotation(w.namespace, w.name)! >= started).toBe(true)
    for (const o of OPERATED) expect(stsAnnotation('monitoring', o.sts)! >= started).toBe(true)
    // OpenSearch verified its snapshot repository (after the restarts)
    expect(osFake.requests.filter((q) => q.path === '/_snapshot/s3-snapshots/_verify').length).toBe(verifies + 1)
    expectNoSecretKey(JSON.stringify(r))
  })
})

describe('secrets rotate s3: a new secret key for the same access key', () => {
  it('MinIO keeps one secret per key: the old secret is refused by its signature (SignatureDoesNotMatch), so one run finishes', async () => {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(PAIRS.edited.accessKey, PAIRS.edited.secretKey)
    exportPair(PAIRS.edited)
    const r = await rotate()
    expect(r.rotated[0]).toMatchObject({
      credential: 's3',
      user: PAIRS.edited.accessKey,
      resumed: false,
      verified: {newAccepted: true, oldRefused: true},
    })
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.edited)])
    expect(previous()).toBeUndefined()
    expectNoSecretKey(JSON.stringify(r))
  })
})

describe('secrets rotate s3 after a run that stopped', () => {
  beforeAll(() => requireBuild())
  // a run stops after s3 only when an earlier credential failed (s3 is rotated last: a kill stops the run before
  // it); here Grafana's, refused before anything is sent or written: its env var is the current password
  const rotateWith = (credentials: string[]) => secretsRotate(inv, {credentials, kubeconfig, renderer: 'silent', pollMs: 50, timeoutSeconds: 30})
  const runOf = (e: ObsctlError) => (e.details as {run: RunResult}).run
  const tasks = (run: RunResult) => run.phases[0]!.tasks.map((t) => [t.target, t.status])
  const s3Task = (run: RunResult) => run.phases[0]!.tasks.find((t) => t.target === 's3')!

  it('the pair that run rotated and verified is not refused as the current one by the rerun with the same env: reported as done by that run; after a run that finished it is', async () => {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(PAIRS.fourth.accessKey, PAIRS.fourth.secretKey)
    AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(PAIRS.edited.accessKey)
    exportPair(PAIRS.fourth)
    const stopped = await rejection(rotateWith(['grafana', 's3']))
    expect(stopped.message).toMatch(/^\$OBSCTL_GRAFANA_ADMIN_PASSWORD \(Grafana admin password\) is the current value/)
    expect(tasks(runOf(stopped))).toEqual([
      ['grafana', 'failed'],
      ['s3', 'done'],
    ])
    expect(s3Task(runOf(stopped)).report).toMatchObject({credential: 's3', user: PAIRS.fourth.accessKey, resumed: false})
    expect(pairsInSecrets()).toEqual([pairString(PAIRS.fourth)])
    expect(previous()).toBeUndefined()
    const stoppedRun = runOf(stopped).runId
    const before = secretVersions()
    const restarts = ALL_STS.map((w) => stsAnnotation(w.namespace, w.name))

    // the same command line, the same env: Grafana fails again, s3 is the stopped run's (not refused, not rotated again)
    const same = await rejection(rotateWith(['grafana', 's3']))
    expect(tasks(runOf(same))).toEqual([
      ['grafana', 'failed'],
      ['s3', 'done'],
    ])
    expect(s3Task(runOf(same))).toMatchObject({
      status: 'done',
      report: {credential: 's3', byEarlierRun: stoppedRun, verified: {newAccepted: true, oldRefused: true}},
    })
    // a rerun naming s3 alone (the binary: the table): the same, the run before it stopped too, and took s3 from the first
    const alone = await obsctlAsync(['secrets', 'rotate', 's3', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig])
    expect(alone.status, alone.stderr).toBe(0)
    expect(alone.stdout).toMatch(/^s3 \(earlier run\) +\$OBSCTL_S3_ACCESS_KEY\/\$OBSCTL_S3_SECRET_KEY /m)
    expect(alone.stdout).toContain('cluster-01 statefulset/thanos-store (earlier run), cluster-01 statefulset/thanos-compactor (earlier run)')
    const journal = JSON.parse(readFileSync(path.join(dir, '.obsctl', 'state.json'), 'utf8')) as {tasks: Record<string, {report?: RotateReport}>}
    expect(journal.tasks['rotate/s3']!.report).toMatchObject({credential: 's3', user: PAIRS.fourth.accessKey, byEarlierRun: stoppedRun})
    expectNoSecretKey(alone.stdout + alone.stderr)
    expect(secretVersions()).toEqual(before)
    expect(ALL_STS.map((w) => stsAnnotation(w.namespace, w.name))).toEqual(restarts)

    // that run finished: the same pair again is refused, as any current pair
    expect(await rejection(rotateWith(['s3']))).toMatchObject({exitCode: 2, code: 'ROTATE_SAME_VALUE'})
    expect(secretVersions()).toEqual(before)
  })
})

describe('obsctl secrets rotate s3 (built binary)', () => {
  beforeAll(() => requireBuild())

  it('--json: the current pair again is exit 2 with the error object, and no secret key in argv or output', async () => {
    const objstore = YAML.parse(value(central(), 'monitoring', 'thanos-objstore', 'objstore.yml')!) as {config: {access_key: string; secret_key: string}}
    const current = {accessKey: objstore.config.access_key, secretKey: objstore.config.secret_key}
    const args = ['secrets', 'rotate', 's3', '--json', '-c', path.join(dir, 'obsctl.yaml'), '--kubeconfig', kubeconfig]
    const r = await obsctlAsync(args, {env: {OBSCTL_S3_ACCESS_KEY: current.accessKey, OBSCTL_S3_SECRET_KEY: current.secretKey}})
    expect(r.status, r.stderr).toBe(2)
    expect((JSON.parse(r.stdout) as {error: {code: string; hints: string[]}}).error).toMatchObject({
      code: 'ROTATE_SAME_VALUE',
      hints: expect.arrayContaining([
        expect.stringMatching(/^the current key; create one in MinIO \(mc admin user svcacct add ALIAS USER\) and export OBSCTL_S3_ACCESS_KEY=…/),
      ]) as string[],
    })
    expect(args.join(' ')).not.toContain(current.secretKey)
    expectNoSecretKey(r.stdout + r.stderr)
    expect(pairsInSecrets()).toEqual([pairString(current)])
  })
})
