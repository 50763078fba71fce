/**
 * The Argo CD phases of bootstrap (DESIGN.md §3), as factories taking typed options: `argocd` (install
 * on central), `register` (one task per edge), `root-app` and `sync`. Each task returns its report
 * (install, register, root-app, sync), which commands read from the run result.
 */
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {centralCluster, findCluster, gitDir, metricsMode} from '../config/model.js'
import {runClusterNames} from '../engine/options.js'
import type {Phase, RunContext, Target} from '../engine/types.js'
import {nodeCrypto, sha256} from '../hash.js'
import {kubeForCluster} from '../kube/run.js'
import type {InstallReport} from './install.js'
import {manifestUrl} from './manifest.js'
import {controllerSharding} from './sharding.js'
import {edgeRegistered, edgesToRegister, registerEdge, type RegisterReport} from './register.js'
import {applyRootApp, credentialDigest, readRootApp, repoSecretName, type RepoCredential, type RootAppReport} from './rootapp.js'
import type {SyncReport} from './sync.js'
import {envValue} from '../env.js'

/** What every Argo CD phase waits with: --timeout (else the phase's default) and the poll interval (tests). */
export interface ArgocdWaitOptions {
  timeoutSeconds?: number
  intervalMs?: number
}

export interface ArgocdPhaseOptions extends ArgocdWaitOptions {
  /** --manifest FILE or URL (air-gapped sites) */
  manifest?: string
  /** the flag that gave it, named in errors (default --manifest) */
  manifestFlag?: string
}

export interface RegisterPhaseOptions extends ArgocdWaitOptions {
  /** --rotate-tokens: run again and replace the tokens even when nothing else changed */
  rotateTokens?: boolean
}

const DEFAULT_TIMEOUT_S = {argocd: 600, register: 120, 'root-app': 60, sync: 1800}

function timeoutMs(o: ArgocdWaitOptions, phase: keyof typeof DEFAULT_TIMEOUT_S): number {
  const t = o.timeoutSeconds
  return (t !== undefined && t > 0 ? t : DEFAULT_TIMEOUT_S[phase]) * 1000
}

function digestDir(dir: string): string | null {
  try {
    const h = nodeCrypto().createHash('sha256')
    for (const f of readdirSync(dir).sort())
      h.update(f)
        .update('\0')
        .update(readFileSync(path.join(dir, f)))
        .update('\0')
    return h.digest('hex').slice(0, 16)
  } catch {
    return null
  }
}

function digestFile(file: string): string | null {
  try {
    return sha256(readFileSync(file)).slice(0, 16)
  } catch {
    return null
  }
}

const centralTarget = (ctx: RunContext): Target => {
  const c = centralCluster(ctx.platform)
  return {id: c.name, title: `${c.name} (central)`, cluster: c.name}
}

export function argocdPhase(o: ArgocdPhaseOptions = {}): Phase<Target, InstallReport> {
  return {
    name: 'argocd',
    kubeconfig: 'read',
    title: 'Install Argo CD on the central cluster',
    targets: (ctx) => [centralTarget(ctx)],
    fingerprint: (_t, ctx) => ({
      version: ctx.platform.versions.argocd,
      manifest: o.manifest ?? null,
      nodes: centralCluster(ctx.platform).nodes.length,
      // the controller's shards follow the fleet's size (sharding.ts): past a threshold the install runs again
      shards: controllerSharding(ctx.platform).replicas,
      rendered: digestDir(path.join(gitDir(ctx.platform, ctx.inv.dir), 'argocd', 'install')),
    }),
    describe: (t, ctx) => {
      const m = o.manifest
      const p = ctx.platform
      return `install Argo CD ${p.versions.argocd} on ${t.cluster} from ${m ?? `${manifestUrl(p.versions.argocd, centralCluster(p).nodes.length >= 3 ? 'ha' : 'non-ha')} (HA when the cluster has >= 3 nodes)`}, wait for the rollout, apply the rendered argocd/install/; application controller sharded by cluster count (${ctx.platform.clusters.length} cluster(s))`
    },
    // install.ts and sync.ts load when a phase checks or runs (obsctl plan only describes)
    async isDone(t, ctx) {
      const {argocdInstalled} = await import('./install.js')
      return argocdInstalled(await kubeForCluster(ctx, t.cluster!), ctx.platform, ctx.inv.dir)
    },
    async run(t, ctx, io) {
      const kube = await kubeForCluster(ctx, t.cluster!)
      const {installArgocd} = await import('./install.js')
      const r = await installArgocd(kube, ctx.platform, ctx.inv.dir, {
        manifest: o.manifest,
        manifestFlag: o.manifestFlag,
        timeoutMs: timeoutMs(o, 'argocd'),
        intervalMs: o.intervalMs,
        signal: io.signal,
        log: io.log,
      })
      return {summary: `Argo CD ${r.version} (${r.variant === 'ha' ? 'HA' : 'non-HA'}): ${r.workloads.length} workloads rolled out; ${r.url}`, report: r}
    },
  }
}

export interface RegisterTarget extends Target {
  cluster: string
}

function selectedEdges(ctx: RunContext) {
  return edgesToRegister(ctx.platform, runClusterNames(ctx) ?? [])
}

export function registerPhase(o: RegisterPhaseOptions = {}): Phase<RegisterTarget, RegisterReport> {
  return {
    name: 'register',
    kubeconfig: 'read',
    title: 'Register edge clusters with Argo CD',
    targets: (ctx) => selectedEdges(ctx).map((c) => ({id: c.name, title: `${c.name} (${metricsMode(c)})`, cluster: c.name})),
    fingerprint: (t, ctx) => {
      const c = findCluster(ctx.platform, t.cluster)!
      // --rotate-tokens must run again even when nothing else changed
      return {server: c.apiServer, metrics: metricsMode(c), central: centralCluster(ctx.platform).name, rotate: o.rotateTokens ? ctx.runId : null}
    },
    describe: (t, ctx) => {
      const c = findCluster(ctx.platform, t.cluster)!
      const scrape = metricsMode(c) === 'remote-scrape' ? ` + scrape ServiceAccount and Secret obsctl-scrape-${c.name} in central's monitoring` : ''
      return `argocd-manager ServiceAccount/ClusterRole/Binding/token on ${c.name}, cluster Secret for ${c.apiServer} in argocd${scrape}${o.rotateTokens ? '; new tokens' : ''}`
    },
    async isDone(t, ctx) {
      if (o.rotateTokens) return false
      const c = findCluster(ctx.platform, t.cluster)!
      return edgeRegistered(await kubeForCluster(ctx, centralCluster(ctx.platform).name), await kubeForCluster(ctx, c.name), c)
    },
    async run(t, ctx, io) {
      const c = findCluster(ctx.platform, t.cluster)!
      const central = await kubeForCluster(ctx, centralCluster(ctx.platform).name)
      const edge = await kubeForCluster(ctx, c.name)
      const r = await registerEdge(central, edge, c, {
        rotateTokens: Boolean(o.rotateTokens),
        timeoutMs: timeoutMs(o, 'register'),
        intervalMs: o.intervalMs,
        signal: io.signal,
        log: io.log,
      })
      return {
        summary: `cluster Secret ${r.clusterSecret}${r.scrapeSecret ? `, scrape Secret ${r.scrapeSecret}` : ''}${r.rotated.length ? `, ${r.rotated.length} token(s) rotated` : ''}`,
        report: r,
      }
    },
  }
}

/** The credential's digest for the fingerprint, when it can be read without asking. */
function credentialFingerprint(ctx: RunContext): string | null {
  const g = ctx.platform.git
  if (!g.private) return null
  let cred: RepoCredential | undefined
  if (g.sshKeyFile) {
    try {
      cred = {kind: 'ssh', from: g.sshKeyFile, secret: readFileSync(path.resolve(ctx.inv.dir, g.sshKeyFile), 'utf8')}
    } catch {}
  } else {
    const token = g.tokenEnv ? envValue(g.tokenEnv, {secret: true}) : undefined
    if (token) cred = {kind: 'token', from: g.tokenEnv!, secret: token}
  }
  return credentialDigest(cred)
}

export function rootAppPhase(): Phase<Target, RootAppReport> {
  return {
    name: 'root-app',
    kubeconfig: 'read',
    title: 'Apply the Argo CD root application',
    targets: (ctx) => [centralTarget(ctx)],
    fingerprint: (_t, ctx) => ({
      rootApp: digestFile(path.join(gitDir(ctx.platform, ctx.inv.dir), 'argocd', 'root-app.yaml')),
      remote: ctx.platform.git.remote,
      private: ctx.platform.git.private,
      credential: credentialFingerprint(ctx),
    }),
    describe: (t, ctx) =>
      `apply ${path.join(gitDir(ctx.platform, ctx.inv.dir), 'argocd', 'root-app.yaml')} on ${t.cluster}${ctx.platform.git.private ? `, with repository credentials in Secret argocd/${repoSecretName(ctx.platform.git.remote)}` : ''}`,
    async isDone(t, ctx) {
      const kube = await kubeForCluster(ctx, t.cluster!)
      const {objects} = await readRootApp(ctx.platform, ctx.inv.dir)
      for (const o of objects) {
        const live = await kube.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace)
        if (!live || JSON.stringify((live.spec as {source?: unknown})?.source) !== JSON.stringify((o.spec as {source?: unknown})?.source)) return false
      }
      if (ctx.platform.git.private && !(await kube.get('v1', 'Secret', repoSecretName(ctx.platform.git.remote), 'argocd'))) return false
      return true
    },
    async run(t, ctx, io) {
      const r = await applyRootApp(await kubeForCluster(ctx, t.cluster!), ctx.platform, ctx.inv.dir, {log: io.log, signal: io.signal})
      return {summary: `${r.applied.join(', ')}${r.repoSecret ? ` + repository credentials ${r.repoSecret}` : ''}`, report: r}
    },
  }
}

export function syncPhase(o: ArgocdWaitOptions = {}): Phase<Target, SyncReport> {
  return {
    name: 'sync',
    kubeconfig: 'read',
    changesNothing: true,
    title: 'Wait for every Application to be Synced and Healthy',
    targets: (ctx) => [{...centralTarget(ctx), id: 'applications', title: `Applications on ${centralCluster(ctx.platform).name}`}],
    // live state is the only truth here: look again on every run
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: () => `wait up to ${timeoutMs(o, 'sync') / 1000}s for every Application in argocd to be Synced and Healthy`,
    async isDone(t, ctx) {
      const {isReady, listApps} = await import('./sync.js')
      const apps = await listApps(await kubeForCluster(ctx, t.cluster!))
      const ok = apps.length > 0 && apps.every(isReady)
      if (!ok) return false
      return {summary: `${apps.length}/${apps.length} Applications Synced and Healthy`, report: {apps, ready: apps.length, total: apps.length, ok}}
    },
    async run(t, ctx, io) {
      const {waitForApps} = await import('./sync.js')
      const r = await waitForApps(await kubeForCluster(ctx, t.cluster!), {
        timeoutMs: timeoutMs(o, 'sync'),
        intervalMs: o.intervalMs,
        signal: io.signal,
        log: io.log,
      })
      return {summary: `${r.ready}/${r.total} Applications Synced and Healthy`, report: r}
    },
  }
}
