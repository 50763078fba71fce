/**
 * `obsctl secrets rotate grafana|opensearch|fluent-bit|argocd|s3` (the `rotate` phase): a credential rotation that takes
 * effect. `secrets apply` only writes Secrets, and their consumers do not all read them again: Grafana with
 * persistent storage keeps the admin password of its database, OpenSearch keeps its internal users in its
 * security index, Fluent Bit and OpenSearch Dashboards read their credentials when they start. So per credential:
 *
 *   1. the new value: its env var (the one `secrets apply` reads) or generated; checked against the consumer's rules
 *   2. the central Secret gets the new value and keeps the old one under `<key>-previous` until step 6
 *      (a run that stops half-way is finished by the next one, which finds the pending pair there)
 *   3. the consumer is made to use it: Grafana through its API (PUT /api/user/password as admin);
 *      an OpenSearch internal user through the security API (PUT _plugins/_security/api/internalusers/NAME)
 *      and in the security config Secret the operator loads (its bcrypt hash), so a reload keeps it; a user
 *      the REST API refuses to change (reserved) takes effect when the operator loads that config
 *   4. the other clusters' copies (Fluent Bit's Secret is in every cluster), then a rollout restart of what
 *      reads the credential only at start (the pod template annotation kubectl rollout restart sets), waited for;
 *      the rotation's id (kept in the Secret with the old value) goes beside it, so a run that finishes a pending
 *      rotation only waits for what an earlier run restarted for it (unless it changed that cluster's Secrets)
 *
 * Fluent Bit is one OpenSearch user per cluster (fluentbitUser: fluentbit-CLUSTER) whose password is derived
 * from a key (fluentbitPasswordFor; the key is $OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD, kept only in central's
 * Secret as per-cluster-key). Rotating it rotates the key: the pair (old key, new key) is pending in central's
 * Secret, and steps 3–5 are done per cluster with the passwords both keys derive for it.
 *   5. verified: the new value is accepted and the old one refused by the consumer itself (a probe that cannot
 *      answer either way is a failure, never a pass)
 *   6. the old value is dropped from the Secret
 *
 * A rerun after a run that stopped does not rotate again what that run rotated and verified: ./rotate/earlier.ts.
 *
 * The S3 key pair is made in MinIO by the user and verified by S3 itself: ./rotate/s3.ts.
 *
 * Values live only in memory and in the Secrets: never in argv, logs, the journal or reports.
 */
import {centralCluster, NAMESPACES, SECRET_NAMES} from '../config/model.js'
import type {Platform} from '../config/schema.js'
import {PASSWORD_ENV, passwordProblem} from '../config/passwords.js'
import type {Phase} from '../engine/types.js'
import {inputError} from '../errors.js'
import {ARGOCD_PASSWORD_ENV, INITIAL_ADMIN_SECRET, SNAPSHOT_REPOSITORY} from '../platform/index.js'
import {fluentbitUser, s3Secrets} from './secrets/catalogue.js'
import {generatePassword} from './secrets/values.js'
import {PENDING_SECRET as ARGOCD_PENDING_SECRET, rotateArgocd} from './rotate/argocd.js'
import {previousKey} from './rotate/common.js'
import {earlierRotation, pendingInSecret} from './rotate/earlier.js'
import {rotateFluentbit} from './rotate/fluentbit.js'
import {
  ARGOCD_NEW_PASSWORD_ENV,
  CREDENTIALS,
  ROTATABLE,
  TITLES,
  type NewValue,
  type Rotatable,
  type RotatePhaseOptions,
  type RotateReport,
} from './rotate/model.js'
import {rotateS3, s3NewValue, s3OperatorRestarts, s3Restarts, s3Source, S3_REFERENCE} from './rotate/s3.js'
import {rotateOne} from './rotate/secret-backed.js'
import {wantedBuckets} from '../s3/buckets.js'

export {
  ARGOCD_NEW_PASSWORD_ENV,
  CREDENTIALS,
  RESTARTED_AT,
  ROTATABLE,
  ROTATION,
  type NewValue,
  type Rotatable,
  type RotatePhaseOptions,
  type RotateReport,
  type Workload,
} from './rotate/model.js'
import {envValue} from '../env.js'

/** Parse the credential names (bad input names the choices). */
export function parseRotatable(names: string[]): Rotatable[] {
  if (names.length === 0) throw inputError('name what to rotate', [`one or more of: ${ROTATABLE.join(', ')}`], 'BAD_ARGS')
  const bad = names.filter((n) => !(ROTATABLE as readonly string[]).includes(n))
  if (bad.length) throw inputError(`cannot rotate ${bad.join(', ')}`, [`one or more of: ${ROTATABLE.join(', ')}`], 'BAD_ARGS')
  return ROTATABLE.filter((r) => names.includes(r))
}

/** Where each new value comes from, checked against the consumer's rules (names only: for dry runs). */
export function rotationSources(p: Platform, ids: Rotatable[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const id of ids) {
    if (id === 's3') {
      // made in MinIO by the user (obsctl cannot): never generated
      out[id] = s3NewValue(p, env) ? s3Source(p) : `${s3Source(p)} (not set: create the pair in MinIO and export it before the real run)`
      continue
    }
    const name = id === 'argocd' ? ARGOCD_NEW_PASSWORD_ENV : PASSWORD_ENV[CREDENTIALS[id].kind]
    const v = envValue(name, {secret: true, env})
    if (v) {
      const problem = id === 'argocd' ? argocdProblem(v) : passwordProblem(CREDENTIALS[id].kind, v)
      if (problem)
        throw inputError(
          `$${name} (${TITLES[id]}) ${problem}`,
          [`export ${name}=… with a password that passes`, `or unset it: obsctl generates one`],
          'WEAK_PASSWORD',
        )
      out[id] = `$${name}`
    } else out[id] = 'generated'
  }
  return out
}

/** Argo CD hashes with bcrypt (72 bytes at most); obsctl asks for 8 characters, as `argocd password` does. */
function argocdProblem(v: string): string | undefined {
  if (v.length < 8) return `has ${v.length} character(s); at least 8`
  if (Buffer.byteLength(v) > 72) return 'is longer than the 72 bytes bcrypt reads'
  return undefined
}

/**
 * The new values: the env var `secrets apply` reads ($OBSCTL_ARGOCD_NEW_PASSWORD for Argo CD), else generated;
 * the S3 key pair only from the inventory's S3 env vars.
 */
export async function resolveRotationValues(
  p: Platform,
  ids: Rotatable[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Partial<Record<Rotatable, NewValue>>> {
  const sources = rotationSources(p, ids, env)
  const out: Partial<Record<Rotatable, NewValue>> = {}
  for (const id of ids) {
    if (id === 's3') {
      // unset: only a pending rotation can be finished (rotateS3 says what to export otherwise)
      const v = s3NewValue(p, env)
      if (v) out.s3 = v
      continue
    }
    const name = id === 'argocd' ? ARGOCD_NEW_PASSWORD_ENV : PASSWORD_ENV[CREDENTIALS[id].kind]
    // Argo CD's is typed by people: its own generator's unambiguous alphabet
    const generated = () => (id === 'argocd' ? import('../argocd/password.js').then((m) => m.generatePassword()) : Promise.resolve(generatePassword()))
    out[id] = {source: sources[id]!, value: sources[id] === 'generated' ? await generated() : env[name]!}
  }
  return out
}
/** `namespace/name` of a cluster's S3 Secrets (names only: the values are placeholders). */
function s3SecretShapes(p: Platform, c: Platform['clusters'][number]): string[] {
  return s3Secrets(p, c, {s3: {accessKey: '-', secretKey: '-'}}).map((x) => `${x.namespace}/${x.name}`)
}
interface Target {
  id: Rotatable
  title: string
}
export function describeRotation(p: Platform, id: Rotatable, source: string): string {
  if (id === 's3') {
    const central = centralCluster(p).name
    const secrets = p.clusters.map((c) => `${s3SecretShapes(p, c).join(', ')} on ${c.name}`)
    const restarts = [
      ...s3Restarts(p).map((w) => `${w.kind} ${w.namespace}/${w.name}`),
      ...s3OperatorRestarts(p).map((w) => `${w.kind} ${w.namespace}/${w.name} (spec.podMetadata.annotations)`),
    ]
    return `${TITLES.s3}, new pair ${source}: check it lists ${wantedBuckets(p)
      .map((b) => b.name)
      .join(
        ', ',
      )} (else nothing is changed); ${S3_REFERENCE.namespace}/${S3_REFERENCE.name} on ${central} gets it (the old pair kept as ${previousKey(S3_REFERENCE.key)} until verified); the Secrets ${secrets.join('; ')}; on ${central} a rollout restart of ${restarts.join(', ')}; Longhorn reads its Secret per backup (no restart); then verify S3 accepts the new pair and refuses the old one (else: mc admin user svcacct rm ALIAS OLD_ACCESS_KEY_ID, rerun) and OpenSearch verifies ${SNAPSHOT_REPOSITORY} (POST _snapshot/${SNAPSHOT_REPOSITORY}/_verify)`
  }
  if (id === 'argocd') {
    return `${TITLES.argocd} (user admin), new value ${source}${source === 'generated' ? ' (shown once)' : ''}: kept pending with the old one in ${NAMESPACES.argocd}/${ARGOCD_PENDING_SECRET} until verified${source === 'generated' ? ' and shown' : ''}; its bcrypt hash in ${NAMESPACES.argocd}/argocd-secret on ${centralCluster(p).name} (admin.password, admin.passwordMtime; Argo CD reads it live), ${INITIAL_ADMIN_SECRET} deleted; then verify through POST /api/v1/session that the new password is accepted and the old one ($${ARGOCD_PASSWORD_ENV}, else ${INITIAL_ADMIN_SECRET}) refused`
  }
  const spec = CREDENTIALS[id]
  const clusters = spec.everyCluster ? p.clusters : [centralCluster(p)]
  const restarts = clusters.flatMap((c) => spec.restarts(p, c).map((w) => `${c.name} ${w.kind} ${w.namespace}/${w.name}`))
  if (id === 'fluent-bit') {
    const central = centralCluster(p).name
    return `${spec.title}s (one OpenSearch user per cluster: ${clusters.map((c) => fluentbitUser(c.name)).join(', ')}), new key ${source}: ${spec.secret.key} in Secret ${spec.secret.namespace}/${spec.secret.name} on ${central} (the old key kept as ${previousKey(spec.secret.key)} until verified); per cluster, the password the new key derives for its user through the security API (PUT _plugins/_security/api/internalusers/fluentbit-CLUSTER) and its hash in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}, then in Secret ${spec.secret.namespace}/${spec.secret.name} on ${clusters.map((c) => c.name).join(', ')}${restarts.length ? `; rollout restart of ${restarts.join(', ')}` : ''}; then verify each user's new password is accepted and old one refused`
  }
  const how =
    spec.service === 'grafana'
      ? "Grafana's API (PUT /api/user/password)"
      : `the security API (PUT _plugins/_security/api/internalusers/${spec.opensearchUser}) and the hash in ${NAMESPACES.logging}/${SECRET_NAMES.opensearchSecurityConfig}`
  return `${spec.title} (user ${spec.user}), new value ${source}: Secret ${spec.secret.namespace}/${spec.secret.name} on ${clusters.map((c) => c.name).join(', ')}; consumer through ${how}${restarts.length ? `; rollout restart of ${restarts.join(', ')}` : ''}; then verify the new password is accepted and the old one refused`
}

export function rotatePhase(o: RotatePhaseOptions): Phase<Target, RotateReport> {
  return {
    name: 'rotate',
    kubeconfig: 'read',
    title: 'Credential rotation',
    // one at a time: rotating Fluent Bit's password uses the admin password an OpenSearch rotation changes
    concurrency: 1,
    targets: () => ROTATABLE.filter((id) => o.credentials.includes(id)).map((id) => ({id, title: TITLES[id]})),
    // which credential and where its value comes from: never the value
    fingerprint: (t) => ({credential: t.id, source: o.values[t.id]?.source ?? null}),
    describe: (t, ctx) => describeRotation(ctx.platform, t.id, o.values[t.id]?.source ?? (t.id === 's3' ? 'pending in the Secret' : 'generated')),
    async run(t, ctx, io) {
      // a stopped run's rerun: what that run rotated and verified stands (unless a pending pair is in the Secret again)
      const earlier = earlierRotation(ctx.journal, t.id)
      if (earlier) {
        if (!(await pendingInSecret(ctx, t.id))) {
          io.log(`the run ${earlier.byEarlierRun} rotated and verified the ${TITLES[t.id]}, then stopped before the end: not rotated again`)
          return {summary: `${TITLES[t.id]}: rotated and verified by the earlier run ${earlier.byEarlierRun}; not again`, report: earlier}
        }
        io.log(`the run ${earlier.byEarlierRun} rotated the ${TITLES[t.id]}, but a pending rotation is in its Secret: finishing that`)
      }
      const r =
        t.id === 'argocd'
          ? await rotateArgocd(ctx, o, io)
          : t.id === 's3'
            ? await rotateS3(ctx, o, io)
            : t.id === 'fluent-bit'
              ? await rotateFluentbit(ctx, o, io)
              : await rotateOne(ctx, o, CREDENTIALS[t.id], io)
      return {
        summary: `${TITLES[t.id]}: ${r.resumed ? 'finished the pending rotation' : `rotated (${r.source})`}; ${r.secrets.length} Secret(s), ${r.restarted.length} restart(s)${earlierRestarts(r)}; verified`,
        report: r,
      }
    },
  }
}

/** how many of a report's restarts an earlier run did (the rotation it finished had restarted them) */
function earlierRestarts(r: RotateReport): string {
  const n = r.restarted.filter((w) => w.byEarlierRun).length
  return n ? ` (${n} by an earlier run, their rollouts waited for)` : ''
}
