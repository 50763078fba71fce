/**
 * Argo CD on the central cluster (DESIGN.md §1, issue 7): install, admin password, edge registration,
 * root app and sync — through the Kubernetes API, without the argocd CLI. Public surface of
 * src/lib/argocd; @kubernetes/client-node and bcryptjs load only when used.
 */
export * from './manifest.js'
export * from './install.js'
export * from './password.js'
export * from './register.js'
export * from './rootapp.js'
export * from './sync.js'
export {
  argocdPhase,
  registerPhase,
  rootAppPhase,
  syncPhase,
  type ArgocdPhaseOptions,
  type ArgocdWaitOptions,
  type RegisterPhaseOptions,
  type RegisterTarget,
} from './phases.js'
export {argocdInstall, clusterRegister, type ArgocdRunOptions} from './run.js'
