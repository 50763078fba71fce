/** kubeconfig files pointing at test servers (CA and credentials embedded as *-data). */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {stringify} from 'yaml'

export interface KubeconfigEntry {
  server: string
  caPem: string
  clusterName: string
  contextName: string
  userName: string
  namespace?: string
  /** the cluster entry's tls-server-name: the name its certificate is verified against instead of the URL's host */
  tlsServerName?: string
  token?: string
  cert?: string
  key?: string
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

export function buildKubeconfig(entries: KubeconfigEntry[], currentContext = entries[0]?.contextName): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': currentContext,
    clusters: entries.map((e) => ({
      name: e.clusterName,
      cluster: {server: e.server, 'certificate-authority-data': b64(e.caPem), ...(e.tlsServerName ? {'tls-server-name': e.tlsServerName} : {})},
    })),
    users: entries.map((e) => ({
      name: e.userName,
      user: e.token !== undefined ? {token: e.token} : {'client-certificate-data': b64(e.cert ?? ''), 'client-key-data': b64(e.key ?? '')},
    })),
    contexts: entries.map((e) => ({
      name: e.contextName,
      context: {cluster: e.clusterName, user: e.userName, ...(e.namespace ? {namespace: e.namespace} : {})},
    })),
  }
}

export function writeKubeconfigFile(path: string, entries: KubeconfigEntry[], currentContext?: string): string {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, stringify(buildKubeconfig(entries, currentContext)), {mode: 0o600})
  return path
}
