/**
 * The bootstrap phases in order (DESIGN.md §3). Each domain implements its phase(s) in
 * `src/lib/<domain>/phases.ts`; this list only orders them and loads them lazily, so commands that
 * never run a phase never import its dependencies.
 */
import {ObsctlError} from './errors.js'
import type {Phase, Target} from './engine/types.js'

type Loader = () => Promise<Record<string, unknown>>

const PHASES: {name: string; title: string; module: Loader; exportName: string}[] = [
  {name: 'preflight', title: 'Preflight checks on every node', module: () => import('./nodes/phases.js'), exportName: 'preflightPhase'},
  {name: 'nodes', title: 'Kubernetes on every node', module: () => import('./nodes/phases.js'), exportName: 'nodesPhase'},
  {name: 'kubeconfig', title: 'Merge admin kubeconfigs', module: () => import('./kube/phases.js'), exportName: 'kubeconfigPhase'},
  {name: 'buckets', title: 'S3 buckets and lifecycle', module: () => import('./s3/phases.js'), exportName: 'bucketsPhase'},
  {name: 'render', title: 'Render the GitOps repository', module: () => import('./gitops/phases.js'), exportName: 'renderPhase'},
  {name: 'argocd', title: 'Install Argo CD on the central cluster', module: () => import('./argocd/phases.js'), exportName: 'argocdPhase'},
  {name: 'register', title: 'Register edge clusters with Argo CD', module: () => import('./argocd/phases.js'), exportName: 'registerPhase'},
  {name: 'secrets', title: 'Credentials as Secrets in the clusters', module: () => import('./kube/phases.js'), exportName: 'secretsPhase'},
  {name: 'root-app', title: 'Apply the Argo CD root application', module: () => import('./argocd/phases.js'), exportName: 'rootAppPhase'},
  {name: 'sync', title: 'Wait for every Application to be Synced and Healthy', module: () => import('./argocd/phases.js'), exportName: 'syncPhase'},
  {name: 'validate', title: 'Validate the platform end to end', module: () => import('./validate/phases.js'), exportName: 'validatePhase'},
]

export const PHASE_NAMES = PHASES.map((p) => p.name)

export function phaseIndex(name: string): number {
  return PHASE_NAMES.indexOf(name)
}

/** A phase whose issue has not landed: honest, exits 1, never a fake success. */
function notImplemented(name: string, title: string): Phase {
  const phase: Phase & {notImplemented: true} = {
    notImplemented: true,
    name,
    title,
    targets: () => [{id: 'platform'}],
    fingerprint: () => null,
    describe: () => `${title}: not implemented yet`,
    run: async () => {
      throw new ObsctlError(`phase ${name} is not implemented yet`, {code: 'NOT_IMPLEMENTED'})
    },
  }
  return phase
}

/** False for the stand-in of a phase whose issue has not landed (it would fail with NOT_IMPLEMENTED). */
export function phaseImplemented(p: Phase<Target>): boolean {
  return !(p as {notImplemented?: boolean}).notImplemented
}

/** Load one phase by name. */
export async function loadPhase(name: string): Promise<Phase<Target>> {
  const entry = PHASES.find((p) => p.name === name)
  if (!entry) throw new ObsctlError(`unknown phase ${name}`, {exitCode: 2, hints: [`phases: ${PHASE_NAMES.join(', ')}`]})
  const mod = await entry.module()
  const phase = mod[entry.exportName] as Phase<Target> | undefined
  return phase ?? notImplemented(entry.name, entry.title)
}

/** Load phases in order: all, a slice from one phase on, or just the named ones. */
export async function loadPhases(select?: {only?: string[]; from?: string}): Promise<Phase<Target>[]> {
  let names = PHASE_NAMES
  if (select?.from) {
    const i = phaseIndex(select.from)
    if (i < 0) throw new ObsctlError(`unknown phase ${select.from}`, {exitCode: 2, hints: [`phases: ${PHASE_NAMES.join(', ')}`]})
    names = names.slice(i)
  }
  if (select?.only?.length) {
    for (const n of select.only) if (phaseIndex(n) < 0) throw new ObsctlError(`unknown phase ${n}`, {exitCode: 2, hints: [`phases: ${PHASE_NAMES.join(', ')}`]})
    names = names.filter((n) => select.only!.includes(n))
  }
  return Promise.all(names.map((n) => loadPhase(n)))
}
