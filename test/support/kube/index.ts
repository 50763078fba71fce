/**
 * Kubernetes API test server (issue 3). See test/support/README.md for the API and its limits.
 *
 *   const kube = await startKubeServer({name: 'cluster-01'})
 *   kube.writeKubeconfig(join(dir, 'kubeconfig'))
 *   ... run obsctl / kubectl / client-node against it ...
 *   await kube.stop()
 */
import {writeKubeconfigFile} from './kubeconfig.js'
import {KubeServer, type KubeconfigOptions, type KubeServerOptions} from './server.js'

export {KubeServer}
export type {FailureSpec, KindRef, KubeconfigOptions, KubeServerOptions, RequestLogEntry, UserCredentials} from './server.js'
export type {PolicyRule, UserSpec} from './auth.js'
export type {ProxyHandler, ProxyRequest, ProxyResponse} from './handlers.js'
export type {StatusBody} from './status.js'

export function startKubeServer(opts: KubeServerOptions = {}): Promise<KubeServer> {
  return KubeServer.start(opts)
}

/** one server per simulated cluster, each with its own CA; `name` becomes the kubeconfig cluster name */
export async function startKubeServers(names: string[], opts: Omit<KubeServerOptions, 'name'> = {}): Promise<KubeServer[]> {
  return Promise.all(names.map((name) => KubeServer.start({...opts, name})))
}

export async function stopKubeServers(servers: KubeServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()))
}

/**
 * one kubeconfig with a context per server (context `${name}-context`, cluster `${name}`,
 * user `${name}-admin` unless opts says otherwise); current-context is the first server's.
 */
export function writeFleetKubeconfig(
  path: string,
  servers: KubeServer[],
  opts: Omit<KubeconfigOptions, 'contextName' | 'clusterName' | 'userEntryName'> & {currentContext?: string} = {},
): string {
  const entries = servers.map((s) => s.kubeconfigEntry(opts))
  return writeKubeconfigFile(path, entries, opts.currentContext)
}
