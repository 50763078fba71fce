/** Kubernetes on bare machines over SSH: preflight, install-k8s.sh rendering, the install flow. */
export {
  preflight,
  checkNode,
  evaluateNode,
  evaluateFleet,
  readFacts,
  type CheckResult,
  type CheckStatus,
  type NodeFacts,
  type PreflightReport,
} from './preflight.js'
export {
  renderInstallScript,
  installMode,
  kubeadmInitConfig,
  kubeadmJoinConfig,
  parseJoinCommand,
  packageBase,
  CILIUM_CLI_VERSION,
  type InstallMode,
  type JoinInfo,
} from './script.js'
export {installNode, nodeTargets, type NodeTarget} from './install.js'
export {preflightPhase, nodesPhase} from './phases.js'
export {runNodePreflight, runNodeInstall, type NodeRunOptions, type NodeInstallOptions} from './run.js'
