/**
 * Every phase obsctl runs, by name (as k0sctl's phase list, with typed options): each entry loads its
 * domain module lazily — commands that never run a phase never import its dependencies — and calls the
 * phase's factory with that phase's typed options. Flows (bootstrap, cluster add/remove, change) are
 * ordered lists of these names; see CONTRIBUTING.md.
 */
import type {ArgocdPhaseOptions, ArgocdWaitOptions, RegisterPhaseOptions} from '../argocd/phases.js'
import type {AnyPhase} from '../engine/runner.js'
import {ObsctlError} from '../errors.js'
import type {RefreshPhaseOptions, RemovalOptions} from '../fleet/phases.js'
import type {RenderPhaseOptions} from '../gitops/phases.js'
import type {KubeconfigPhaseOptions, SecretsPhaseOptions} from '../kube/phases.js'
import type {RotatePhaseOptions} from '../kube/rotate.js'
import type {BackupEtcdOptions, BackupStateOptions} from '../lifecycle/backup.js'
import type {RestoreEtcdOptions} from '../lifecycle/restore.js'
import type {CertsCheckOptions, CertsRenewOptions} from '../lifecycle/certs.js'
import type {NodeLabelsOptions, NodeRemovalOptions} from '../lifecycle/node.js'
import type {UpgradeOptions} from '../lifecycle/upgrade.js'
import type {NodesPhaseOptions, PreflightPhaseOptions} from '../nodes/install.js'
import type {BucketsPhaseOptions} from '../s3/phases.js'
import type {ValidatePhaseOptions} from '../validate/phases.js'

/** A phase without options. */
export type NoOptions = Record<string, never>

const nodes = () => import('../nodes/phases.js')
const kube = () => import('../kube/phases.js')
const argocd = () => import('../argocd/phases.js')
const fleet = () => import('../fleet/phases.js')
const certs = () => import('../lifecycle/certs.js')
const backup = () => import('../lifecycle/backup.js')
const upgrade = () => import('../lifecycle/upgrade.js')
const lifecycleNode = () => import('../lifecycle/node.js')

export const PHASE_REGISTRY = {
  preflight: async (o: PreflightPhaseOptions) => (await nodes()).preflightPhase(o),
  nodes: async (o: NodesPhaseOptions) => (await nodes()).nodesPhase(o),
  kubeconfig: async (o: KubeconfigPhaseOptions) => (await kube()).kubeconfigPhase(o),
  buckets: async (o: BucketsPhaseOptions) => (await import('../s3/phases.js')).bucketsPhase(o),
  render: async (o: RenderPhaseOptions) => (await import('../gitops/phases.js')).renderPhase(o),
  argocd: async (o: ArgocdPhaseOptions) => (await argocd()).argocdPhase(o),
  register: async (o: RegisterPhaseOptions) => (await argocd()).registerPhase(o),
  secrets: async (o: SecretsPhaseOptions) => (await kube()).secretsPhase(o),
  rotate: async (o: RotatePhaseOptions) => (await import('../kube/rotate.js')).rotatePhase(o),
  'root-app': async (_o: NoOptions) => (await argocd()).rootAppPhase(),
  'cluster-labels': async (_o: NoOptions) => (await import('../argocd/labels.js')).clusterLabelsPhase(),
  'argocd-refresh': async (o: RefreshPhaseOptions) => (await fleet()).refreshPhase(o),
  sync: async (o: ArgocdWaitOptions) => (await argocd()).syncPhase(o),
  validate: async (o: ValidatePhaseOptions) => (await import('../validate/phases.js')).validatePhase(o),
  'remove-apps': async (o: RemovalOptions) => (await fleet()).removeAppsPhase(o),
  'remove-secret': async (o: RemovalOptions) => (await fleet()).removeSecretPhase(o),
  'revoke-edge-tokens': async (o: RemovalOptions) => (await fleet()).revokeEdgeTokensPhase(o),
  'revoke-opensearch-user': async (o: RemovalOptions) => (await fleet()).revokeOpensearchUserPhase(o),
  'remove-render': async (o: RemovalOptions) => (await fleet()).removeRenderPhase(o),
  'remove-kubeconfig': async (o: RemovalOptions) => (await fleet()).removeKubeconfigPhase(o),
  'reset-nodes': async (o: RemovalOptions) => (await fleet()).resetNodesPhase(o),
  'remove-inventory': async (o: RemovalOptions) => (await fleet()).removeInventoryPhase(o),
  // day 2: certificates and backups (issue 15)
  'certs-check': async (o: CertsCheckOptions) => (await certs()).certsCheckPhase(o),
  'certs-renew': async (o: CertsRenewOptions) => (await certs()).certsRenewPhase(o),
  'backup-etcd': async (o: BackupEtcdOptions) => (await backup()).backupEtcdPhase(o),
  'backup-state': async (o: BackupStateOptions) => (await backup()).backupStatePhase(o),
  'restore-etcd': async (o: RestoreEtcdOptions) => (await import('../lifecycle/restore.js')).restoreEtcdPhase(o),
  'restore-abandon': async (_o: NoOptions) => (await import('../lifecycle/restore.js')).restoreAbandonPhase(),
  'upgrade-preflight': async (o: UpgradeOptions) => (await upgrade()).upgradePreflightPhase(o),
  'upgrade-nodes': async (o: UpgradeOptions) => (await upgrade()).upgradeNodesPhase(o),
  'upgrade-inventory': async (o: UpgradeOptions) => (await upgrade()).upgradeInventoryPhase(o),
  'node-labels': async (o: NodeLabelsOptions) => (await lifecycleNode()).nodeLabelsPhase(o),
  'node-drain': async (o: NodeRemovalOptions) => (await lifecycleNode()).nodeDrainPhase(o),
  'node-reset': async (o: NodeRemovalOptions) => (await lifecycleNode()).nodeResetPhase(o),
  'node-delete': async (o: NodeRemovalOptions) => (await lifecycleNode()).nodeDeletePhase(o),
  'node-forget': async (o: NodeRemovalOptions) => (await lifecycleNode()).nodeForgetPhase(o),
} as const

export type PhaseName = keyof typeof PHASE_REGISTRY
export type PhaseOptions<N extends PhaseName> = Parameters<(typeof PHASE_REGISTRY)[N]>[0]
/** A flow's options: for each of its phases, that phase's typed options. */
export type FlowOptions<N extends PhaseName> = {[K in N]: PhaseOptions<K>}

export const REGISTERED_PHASES = Object.keys(PHASE_REGISTRY) as PhaseName[]

/** Build one registered phase with its options. */
export async function buildPhase<N extends PhaseName>(name: N, options: PhaseOptions<N>): Promise<AnyPhase> {
  // the registry is indexed by a generic name, so TS sees a union of builders; the mapped type ties name and options together
  const build = PHASE_REGISTRY[name] as (o: PhaseOptions<N>) => Promise<AnyPhase>
  const phase = await build(options)
  if (phase.name !== name) throw new ObsctlError(`phase ${name} is registered but builds ${phase.name}`, {code: 'PHASE_REGISTRY'})
  return phase
}

/** Build a flow's phases in its order, each with its own options. */
export function buildPhases<N extends PhaseName>(names: readonly N[], options: FlowOptions<N>): Promise<AnyPhase[]> {
  return Promise.all(names.map((n) => buildPhase(n, options[n])))
}

/**
 * The phases of a flow a run selects: all, a slice from one phase on, or just the named ones (in the
 * flow's order). An unknown name is bad input.
 */
export function selectFlow<N extends string>(flow: readonly N[], select: {only?: readonly string[]; from?: string} = {}): N[] {
  const bad = (n: string | undefined) => n !== undefined && !flow.includes(n as N)
  const [flag, unknown] = bad(select.from) ? ['--from', select.from] : ['--phase', select.only?.find(bad)]
  if (unknown !== undefined)
    throw new ObsctlError(`${flag} ${unknown}: unknown phase`, {exitCode: 2, code: 'UNKNOWN_PHASE', hints: [`phases: ${flow.join(', ')}`]})
  let names = [...flow]
  if (select.from) names = names.slice(names.indexOf(select.from as N))
  if (select.only?.length) names = names.filter((n) => select.only!.includes(n))
  return names
}

/** A flow's phases without `argocd-refresh`: what a user names with --phase/--from (it comes with sync). */
export function userPhases<N extends string>(flow: readonly N[]): Exclude<N, 'argocd-refresh'>[] {
  return flow.filter((p): p is Exclude<N, 'argocd-refresh'> => p !== 'argocd-refresh')
}

/**
 * selectFlow for a flow whose `argocd-refresh` belongs to `sync` (bootstrap, cluster add): the selection is made among
 * the user's phases, and argocd-refresh runs whenever sync does, right before it.
 */
export function selectWithRefresh<N extends string>(flow: readonly N[], select: {only?: readonly string[]; from?: string} = {}): N[] {
  const picked: string[] = selectFlow(userPhases(flow), select)
  return flow.filter((n) => picked.includes(n === 'argocd-refresh' ? 'sync' : n))
}
