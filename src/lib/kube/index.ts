export * from './client.js'
export * from './run.js'
export * from './kubeconfig.js'
export {kubeconfigMerge, type KubeconfigMergeOptions, type KubeconfigMergeReport} from './merge.js'
