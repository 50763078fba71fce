/**
 * The part of @kubernetes/client-node obsctl uses (kube.ts loads it lazily). Named, so that the start-up
 * bundle (bin/bundle.mjs) keeps only what these need: ~1.3 MB instead of the library's 5.4 MB with its ~60
 * generated API classes, which is CPU every Kubernetes command pays to read and load.
 */
export {KubeConfig, KubernetesObjectApi, PatchStrategy, wrapHttpLibrary} from '@kubernetes/client-node'
