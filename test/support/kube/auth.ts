/**
 * Authentication (bearer token, client certificate) and authorization.
 * Users configured on the server have either full rights (no `rules`) or exactly the rules given.
 * ServiceAccount tokens (TokenRequest or the token controller's Secrets) are authorized by RBAC
 * against the Roles/ClusterRoles and bindings stored in the server, as the real authorizer does.
 */
import type {TLSSocket} from 'node:tls'
import type {IncomingMessage} from 'node:http'

export interface PolicyRule {
  verbs: string[]
  /** "pods", "pods/status", "*"; for non-resource requests use nonResourceURLs */
  resources?: string[]
  /** default ["*"] for rules given to users; RBAC rules carry their own */
  apiGroups?: string[]
  resourceNames?: string[]
  /** only for users configured on the server: restrict to these namespaces ("" = cluster scope) */
  namespaces?: string[]
  nonResourceURLs?: string[]
}

export interface UserSpec {
  name: string
  groups?: string[]
  /** bearer token; generated when omitted */
  token?: string
  /** also issue a client certificate (CN=name, O=groups) signed by the server's CA; default true */
  clientCertificate?: boolean
  /** undefined = full rights (like system:masters) */
  rules?: PolicyRule[]
}

export interface User {
  name: string
  groups: string[]
  /** undefined = full rights */
  rules?: PolicyRule[]
  /** set for ServiceAccount identities: rights come from RBAC objects */
  serviceAccount?: {namespace: string; name: string}
}

export interface RequestAttributes {
  verb: string
  apiGroup: string
  resource: string
  subresource: string
  namespace: string
  name: string
  /** set for non-resource requests (/version, /api, /openapi/v3, ...) */
  path?: string
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes, checkNamespaces: boolean): boolean {
  const any = (list: string[] | undefined, v: string) => !list || list.includes('*') || list.includes(v)
  if (!rule.verbs.includes('*') && !rule.verbs.includes(a.verb)) return false
  if (a.path !== undefined) {
    return !!rule.nonResourceURLs?.some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))))
  }
  if (!rule.resources) return false
  if (!any(rule.apiGroups, a.apiGroup)) return false
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const resOk = rule.resources.some(
    (r) => r === '*' || r === full || (r === `${a.resource}/*` && !!a.subresource) || (r === `*/${a.subresource}` && !!a.subresource),
  )
  if (!resOk) return false
  if (rule.resourceNames?.length && !rule.resourceNames.includes(a.name)) return false
  if (checkNamespaces && rule.namespaces && !rule.namespaces.includes(a.namespace)) return false
  return true
}

/** non-resource URLs every authenticated user may read (system:discovery, system:public-info-viewer) */
export function isDiscoveryPath(path: string): boolean {
  return (
    path === '/version' ||
    path === '/api' ||
    path.startsWith('/api/') ||
    path === '/apis' ||
    path.startsWith('/apis/') ||
    path.startsWith('/openapi/') ||
    path === '/healthz' ||
    path === '/livez' ||
    path === '/readyz'
  )
}

export function peerCommonName(req: IncomingMessage): {cn: string; groups: string[]} | undefined {
  const socket = req.socket as TLSSocket
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined
  const cert = socket.getPeerCertificate()
  if (!cert || !cert.subject) return undefined
  const subj = cert.subject as unknown as Record<string, string | string[]>
  const cn = Array.isArray(subj.CN) ? subj.CN[0] : subj.CN
  const o = subj.O === undefined ? [] : Array.isArray(subj.O) ? subj.O : [subj.O]
  return cn ? {cn, groups: o} : undefined
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization
  if (!h) return undefined
  const m = /^Bearer\s+(.+)$/i.exec(h)
  return m ? m[1].trim() : undefined
}
