/**
 * The S3 key pair (MinIO): obsctl cannot make one (MinIO's admin API encrypts its bodies with madmin, and
 * minio-js has no admin client), so the user makes it in MinIO (mc admin user svcacct add ALIAS USER) and
 * exports it as the inventory's S3 env vars; the old pair is the one central's monitoring/thanos-objstore
 * holds (objstore.yml). Then:
 *
 *   1. the new pair must be able to list each of the inventory's buckets (the S3 connection of s3 setup and
 *      validate, TLS verified); else nothing is changed
 *   2. objstore.yml gets the new pair, the old one kept as objstore.yml-previous until step 6 (a run that stops
 *      is finished by the next)
 *   3. every Secret that holds the pair, rewritten by the secrets catalogue (s3Secrets): central's
 *      thanos-objstore and opensearch-s3-keystore, every cluster's longhorn-backup-credentials. Longhorn reads
 *      its Secret per operation, so it is not restarted: longhorn-manager builds a backup target client from
 *      ds.GetCredentialFromSecret(backupTarget.Spec.CredentialSecret) each time it needs one
 *      (longhorn/longhorn-manager controller/backup_target_controller.go newBackupTargetClient), and a
 *      recurring backup Job's pod gets the keys as env from the Secret when it starts
 *   4. a rollout restart, waited for, of what reads the pair only at start (S3_RESTARTS)
 *   5. verified: the new pair lists the buckets, OpenSearch verifies its snapshot repository with it
 *      (POST _snapshot/<repo>/_verify), and S3 refuses the old pair; an old pair still accepted is exit 1 naming
 *      `mc admin user svcacct rm` (the pending pair stays: the rerun after the removal finishes)
 *   6. objstore.yml-previous is dropped
 *
 * The secret keys are only in memory and in the Secrets. The access key ids are shown by their first characters
 * (keyShown) in logs, progress and messages, as the secret env var names (SECRET_ENV: *ACCESS_KEY*) treat them; only
 * the hint that names the `mc` command to run gives an id whole.
 */
import {yaml} from '../../lazy-deps.js'
import {ICONS} from '../../checks/render.js'
import {centralCluster, edgePrometheusName, NAMESPACES, needsReceive, scrapeEdges, SECRET_NAMES} from '../../config/model.js'
import type {Platform} from '../../config/schema.js'
import {killPoint} from '../../engine/kill-point.js'
import type {RunContext, TaskIO} from '../../engine/types.js'
import {ObsctlError, errorMessage, inputError} from '../../errors.js'
import {OPENSEARCH_CLUSTER, OPENSEARCH_NODE_POOLS, SERVICES, SNAPSHOT_REPOSITORY, osError, parseJson, requireCredentialRoute} from '../../platform/index.js'
import {openS3, type S3Credentials} from '../../platform/s3.js'
import {wantedBuckets} from '../../s3/buckets.js'
import {kubeForCluster} from '../run.js'
import {decoded, s3Secrets, thanosObjstoreYaml} from '../secrets/catalogue.js'
import {readS3Ca} from '../secrets/values.js'
import {basic, finishPending, http, pendingPairOf, previousKey, readSecret, restartAll, writeSecretKeys, type PendingCodec} from './common.js'
import {CREDENTIALS, TITLES, type NewValue, type OperatorWorkload, type RotatePhaseOptions, type RotateReport, type Workload} from './model.js'
import {envValue} from '../../env.js'

/** Where the current pair is read: central's objstore.yml (Thanos's configuration). */
export const S3_REFERENCE = {namespace: NAMESPACES.monitoring, name: SECRET_NAMES.thanosObjstore, key: 'objstore.yml'}
const SVCACCT_ADD = 'mc admin user svcacct add ALIAS USER'

/** An access key id as logs and messages show it: its first 4 characters (`AKIA…`), enough to tell which key it is. */
export const keyShown = (accessKey: string) => (accessKey.length >= 8 ? `${accessKey.slice(0, 4)}…` : '…')

/** `$ACCESS/$SECRET`: the env vars the new pair comes from (s3.accessKeyEnv / s3.secretKeyEnv). */
export const s3Source = (p: Platform) => `$${p.s3.accessKeyEnv}/$${p.s3.secretKeyEnv}`

/** The new pair from the inventory's S3 env vars; both are needed (obsctl cannot make one). */
export function s3NewValue(p: Platform, env: NodeJS.ProcessEnv = process.env): NewValue | undefined {
  const accessKey = envValue(p.s3.accessKeyEnv, {secret: true, env})
  const secretKey = envValue(p.s3.secretKeyEnv, {secret: true, env})
  return accessKey && secretKey ? {accessKey, value: secretKey, source: s3Source(p)} : undefined
}

const newPairHint = (p: Platform) =>
  `create one in MinIO (${SVCACCT_ADD}) and export ${p.s3.accessKeyEnv}=… ${p.s3.secretKeyEnv}=… (names from s3.accessKeyEnv / s3.secretKeyEnv; obsctl cannot create keys in MinIO)`

/**
 * What reads the pair only at start, all on the central cluster (the edges hold only Longhorn's copy):
 * - Thanos Store, Compactor and Receive (when an edge uses a Prometheus Agent): StatefulSets of those names,
 *   mounting thanos-objstore at /etc/thanos (templates/gitops/platform/deploy/base/thanos/{store,compactor,receive}.yaml)
 * - the OpenSearch nodes: the operator's keystore init container copies opensearch-s3-keystore into each pod's
 *   keystore at start. The operator owns one StatefulSet per node pool (<cluster>-<component>, update strategy
 *   OnDelete); its RollingRestartReconciler restarts a pool's pods one at a time, cluster health and master
 *   quorum checked, whenever the StatefulSet has a pending revision (opensearch-k8s-operator
 *   pkg/reconcilers/rollingRestart.go). So the annotation goes on those StatefulSets' pod templates: the
 *   operator's resource reconciler (pkg/reconciler/resource.go) computes a 3-way patch from its last-applied
 *   annotation, which leaves a field it never set alone (only when the OpenSearchCluster itself changes does
 *   its update replace the template, and roll the pods for that change anyway); the OpenSearchCluster in Git
 *   (whose nodePools is a list Argo CD would see drift in) is not touched.
 */
export function s3Restarts(p: Platform): Workload[] {
  const sts = (namespace: string, name: string): Workload => ({apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name})
  return [
    sts(NAMESPACES.monitoring, 'thanos-store'),
    sts(NAMESPACES.monitoring, 'thanos-compactor'),
    ...(needsReceive(p) ? [sts(NAMESPACES.monitoring, 'thanos-receive')] : []),
    ...OPENSEARCH_NODE_POOLS.map((pool) => sts(NAMESPACES.logging, `${OPENSEARCH_CLUSTER}-${pool}`)),
  ]
}

/**
 * The Prometheus operator's workloads that mount objstore.yml (their Thanos sidecar, the Ruler): the central
 * Prometheus of kube-prometheus-stack (Prometheus kube-prometheus-stack-prometheus, values.yaml
 * prometheusSpec.thanos.objectStorageConfig), each remote-scrape edge's Prometheus (edge-<edge>,
 * edge-prometheus.yaml) and the ThanosRuler thanos-ruler (thanos/ruler.yaml). spec.podMetadata.annotations is
 * in both CRDs (prometheus-operator v0.86.0); the StatefulSets are prometheus-<name> and thanos-ruler-<name>
 * (prometheus-operator's prefixedName; one shard).
 */
export function s3OperatorRestarts(p: Platform): OperatorWorkload[] {
  const prom = (name: string): OperatorWorkload => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Prometheus',
    namespace: NAMESPACES.monitoring,
    name,
    statefulSet: `prometheus-${name}`,
  })
  return [
    prom(SERVICES.prometheus.name),
    ...scrapeEdges(p).map((e) => prom(edgePrometheusName(e))),
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ThanosRuler',
      namespace: NAMESPACES.monitoring,
      name: 'thanos-ruler',
      statefulSet: 'thanos-ruler-thanos-ruler',
    },
  ]
}

/** The pair as objstore.yml holds it. */
function objstoreCodec(p: Platform): PendingCodec<S3Credentials> {
  return {
    title: TITLES.s3,
    secret: S3_REFERENCE,
    read: (text) => {
      if (!text) return undefined
      const c = ((yaml().parse(text) ?? {}) as {config?: {access_key?: unknown; secret_key?: unknown}}).config
      return typeof c?.access_key === 'string' && typeof c.secret_key === 'string' ? {accessKey: c.access_key, secretKey: c.secret_key} : undefined
    },
    write: (next, old) => ({[S3_REFERENCE.key]: thanosObjstoreYaml(p, next), [previousKey(S3_REFERENCE.key)]: thanosObjstoreYaml(p, old)}),
    same: (a, b) => a.accessKey === b.accessKey && a.secretKey === b.secretKey,
    sameValueHints: [`the current key; ${newPairHint(p)}`],
    noValueHints: [`$${p.s3.accessKeyEnv} and $${p.s3.secretKeyEnv} are not both set: ${newPairHint(p)}`],
  }
}

/**
 * Does S3 accept this pair: can it list each of the inventory's buckets? true; false when S3 does not know it
 * (InvalidAccessKeyId, SignatureDoesNotMatch: refused). AccessDenied is S3 knowing the key: for the old pair
 * (`deniedIsKnown`) that is "still accepted" (it must be removed), for the new one an error (it cannot do its
 * work); anything else (unreachable, TLS, a missing bucket) is an error: a check that cannot measure.
 */
async function s3Accepts(ctx: RunContext, o: RotatePhaseOptions, creds: S3Credentials, what: string, deniedIsKnown = false): Promise<boolean> {
  const session = await openS3(ctx.inv, creds, {
    caFile: o.access?.caFile,
    timeoutSeconds: Math.ceil((o.access?.requestTimeoutMs ?? 15_000) / 1000),
    flags: {caFile: true, timeout: '--request-timeout'},
    signal: ctx.signal,
  })
  try {
    for (const b of wantedBuckets(ctx.platform))
      await session.call(`list bucket ${b.name} with ${what}`, (c) => c.listObjectsV2Query(b.name, '', '', '', 1, ''))
    return true
  } catch (e) {
    if (e instanceof ObsctlError && e.code === 'S3_CREDENTIALS') return false
    if (deniedIsKnown && e instanceof ObsctlError && e.code === 'S3_ACCESS_DENIED') return true
    throw e
  } finally {
    session.close()
  }
}

export async function rotateS3(ctx: RunContext, o: RotatePhaseOptions, io: TaskIO): Promise<RotateReport> {
  const log = (l: string) => io.log(l)
  const p = ctx.platform
  const central = centralCluster(p)
  const timeoutMs = (o.timeoutSeconds ?? 300) * 1000
  const h = await http(ctx, o)
  requireCredentialRoute(h, 'opensearch')
  const ck = await kubeForCluster(ctx, central.name)
  const given = o.values.s3
  const s3Ca = readS3Ca(ctx.inv)

  // 1–2: the pending pair; a new one is checked against S3 before anything is written
  const {
    oldValue: old,
    newValue: next,
    source,
    resumed,
    rotation,
  } = await pendingPairOf(
    ck,
    central.name,
    objstoreCodec(p),
    given ? {value: {accessKey: given.accessKey!, secretKey: given.value}, source: given.source} : undefined,
    log,
    async (pair) => {
      if (!(await s3Accepts(ctx, o, pair, `the new key ${keyShown(pair.accessKey)}`)))
        throw inputError(
          `S3 (${p.s3.endpoint}) refuses the new key ${keyShown(pair.accessKey)} (${given?.source}): nothing was changed`,
          [`check ${p.s3.accessKeyEnv} / ${p.s3.secretKeyEnv}: the key ${SVCACCT_ADD} printed`],
          'ROTATE_NEW_REFUSED',
        )
      log(
        `S3 accepts the new key ${keyShown(pair.accessKey)}: it lists ${wantedBuckets(p)
          .map((b) => b.name)
          .join(', ')}`,
      )
    },
  )

  // 3–4: each cluster's Secrets through the catalogue, then the restarts; one cluster's failure does not stop the others
  const failures: string[] = []
  const secrets: RotateReport['secrets'] = []
  const restarted: RotateReport['restarted'] = []
  for (const c of p.clusters) {
    try {
      const kube = c.name === central.name ? ck : await kubeForCluster(ctx, c.name)
      let secretsChanged = false
      for (const want of s3Secrets(p, c, {s3: next, s3Ca})) {
        const live = await readSecret(kube, want, c.name)
        if (Object.entries(want.data).some(([k, v]) => decoded(live.data?.[k]) !== v)) {
          await writeSecretKeys(kube, live, want.data)
          secretsChanged = true
          killPoint('rotate:consumer-changed')
        }
        for (const key of Object.keys(want.data)) secrets.push({cluster: c.name, namespace: want.namespace, name: want.name, key})
        log(`${c.name}: ${want.namespace}/${want.name}: the new key pair (${Object.keys(want.data).join(', ')})`)
      }
      if (c.name !== central.name) continue
      const run = {rotation, secretsChanged, timeoutMs, signal: ctx.signal, log, intervalMs: o.pollMs}
      restarted.push(...(await restartAll(kube, c.name, [...s3Restarts(p), ...s3OperatorRestarts(p)], run)))
    } catch (e) {
      if (e instanceof ObsctlError && e.exitCode === 130) throw e
      failures.push(`${c.name}: ${errorMessage(e)}`)
      log(`${ICONS.fail} ${c.name}: ${errorMessage(e)}`)
    }
  }
  const keep = `the old pair stays in ${S3_REFERENCE.namespace}/${S3_REFERENCE.name} on ${central.name} as ${previousKey(S3_REFERENCE.key)}: rerun obsctl secrets rotate s3 to finish`
  if (failures.length > 0) throw new ObsctlError(`${TITLES.s3}: not every cluster follows: ${failures.join('; ')}`, {code: 'ROTATE_PARTIAL', hints: [keep]})

  // 5: verified by S3 and by OpenSearch
  const verified = {newAccepted: await s3Accepts(ctx, o, next, `the new key ${keyShown(next.accessKey)}`), oldRefused: false}
  if (!verified.newAccepted)
    throw new ObsctlError(`S3 refuses the new key ${keyShown(next.accessKey)}`, {code: 'ROTATE_NEW_REFUSED', hints: [`was it removed from MinIO? ${keep}`]})
  const repository = await verifyRepository(h, ck, central.name)
  log(`verified: OpenSearch's snapshot repository ${repository.name} verifies (${repository.nodes} node(s))`)
  verified.oldRefused = !(await s3Accepts(ctx, o, old, `the old key ${keyShown(old.accessKey)}`, true))
  if (!verified.oldRefused) {
    throw new ObsctlError(
      `S3 still accepts the old key ${keyShown(old.accessKey)}: every consumer uses the new key ${keyShown(next.accessKey)} now, but the old one must be removed from MinIO`,
      {
        code: 'ROTATE_OLD_ACCEPTED',
        hints: [
          old.accessKey === next.accessKey
            ? `S3 accepts the old secret key of ${keyShown(old.accessKey)} as well as the new one: make MinIO keep only the new one (mc admin user svcacct edit ALIAS ${old.accessKey} --secret-key …, the value in the Secrets), then rerun obsctl secrets rotate s3`
            : `mc admin user svcacct rm ALIAS ${old.accessKey}, then rerun obsctl secrets rotate s3 (it finishes the pending rotation)`,
          keep,
        ],
      },
    )
  }
  log(`verified: S3 accepts the new key ${keyShown(next.accessKey)} and refuses the old one ${keyShown(old.accessKey)}`)

  // 6: the old pair leaves the Secret
  await finishPending(ck, S3_REFERENCE)
  return {
    credential: 's3',
    user: next.accessKey,
    source,
    resumed,
    secrets,
    consumer: 'the S3 Secrets of every cluster (secrets catalogue)',
    restarted,
    verified,
    repository,
  }
}

/** POST _snapshot/<repo>/_verify as the OpenSearch admin: every node reaches the bucket with the keystore's keys. */
async function verifyRepository(
  h: Awaited<ReturnType<typeof http>>,
  ck: Parameters<typeof readSecret>[0],
  central: string,
): Promise<{name: string; nodes: number}> {
  const adminPw = decoded((await readSecret(ck, CREDENTIALS.opensearch.secret, central)).data?.password)
  if (!adminPw)
    throw inputError(`Secret ${NAMESPACES.logging}/${SECRET_NAMES.opensearchAdmin} has no password`, ['obsctl secrets apply writes it'], 'ROTATE_NO_SECRET')
  const res = await h.request('opensearch', `/_snapshot/${SNAPSHOT_REPOSITORY}/_verify`, {
    method: 'POST',
    headers: {authorization: basic(CREDENTIALS.opensearch.user, adminPw)},
  })
  if (res.status !== 200)
    throw new ObsctlError(`OpenSearch's snapshot repository ${SNAPSHOT_REPOSITORY} does not verify with the new key: ${osError(res)}`, {
      code: 'ROTATE_REPOSITORY',
      hints: [
        `every OpenSearch node needs the new keys in its keystore (${NAMESPACES.logging}/${SECRET_NAMES.opensearchKeystore}, loaded at start): kubectl -n ${NAMESPACES.logging} get statefulsets,pods shows whether the operator restarted them`,
        `rerun obsctl secrets rotate s3 to finish (the old pair stays in ${S3_REFERENCE.namespace}/${S3_REFERENCE.name})`,
      ],
    })
  return {name: SNAPSHOT_REPOSITORY, nodes: Object.keys(parseJson<{nodes?: Record<string, unknown>}>(res, 'opensearch').nodes ?? {}).length}
}
