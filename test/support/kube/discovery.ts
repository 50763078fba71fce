/**
 * Discovery documents in the shapes kube-apiserver serves: /version, /api, /apis, /api/v1,
 * /apis/<group>/<version> (unaggregated, "legacy" discovery) and the aggregated v2 documents
 * (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) when the client asks for them in Accept.
 * Clients that ask for aggregated discovery and get a plain application/json reply fall back
 * to the legacy walk, so both forms are correct answers.
 */
import {createHash} from 'node:crypto'
import {groupVersion, type ResourceType, type TypeRegistry} from './kinds.js'

export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
}

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

/** true when the Accept header asks for aggregated discovery v2 */
export function wantsAggregated(accept: string | undefined): boolean {
  return (
    !!accept &&
    accept
      .split(',')
      .some((a) => a.includes('g=apidiscovery.k8s.io') && a.includes('v=v2') && !a.includes('v=v2beta1') && a.includes('as=APIGroupDiscoveryList'))
  )
}

function storageVersionHash(t: ResourceType): string {
  return createHash('sha256').update(`${t.group}/${t.version}/${t.kind}`).digest('base64').slice(0, 11)
}

function resourceEntries(t: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    storageVersionHash: storageVersionHash(t),
  }
  if (t.shortNames.length) main.shortNames = t.shortNames
  if (t.categories.length) main.categories = t.categories
  const subs = t.subresources.map((s) => {
    if (s === 'status') return {name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update']}
    if (s === 'token')
      return {
        name: `${t.resource}/token`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'authentication.k8s.io',
        version: 'v1',
        kind: 'TokenRequest',
        verbs: ['create'],
      }
    if (s === 'eviction')
      return {name: `${t.resource}/eviction`, singularName: '', namespaced: t.namespaced, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create']}
    return {
      name: `${t.resource}/proxy`,
      singularName: '',
      namespaced: t.namespaced,
      kind: `${t.kind}ProxyOptions`,
      verbs: ['create', 'delete', 'get', 'patch', 'update'],
    }
  })
  return [main, ...subs]
}

export function apiVersions(hostPort: string): Record<string, unknown> {
  return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: hostPort}]}
}

export function apiGroupList(reg: TypeRegistry): Record<string, unknown> {
  const groups = [...reg.groups()].map(([name, versions]) => ({
    name,
    versions: versions.map((v) => ({groupVersion: `${name}/${v}`, version: v})),
    preferredVersion: {groupVersion: `${name}/${versions[0]}`, version: versions[0]},
  }))
  return {kind: 'APIGroupList', apiVersion: 'v1', groups}
}

export function apiGroup(reg: TypeRegistry, group: string): Record<string, unknown> | undefined {
  const versions = reg.groups().get(group)
  if (!versions) return undefined
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: versions.map((v) => ({groupVersion: `${group}/${v}`, version: v})),
    preferredVersion: {groupVersion: `${group}/${versions[0]}`, version: versions[0]},
  }
}

export function apiResourceList(reg: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = reg.all().filter((t) => t.group === group && t.version === version)
  if (types.length === 0) return undefined
  return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({group, version}), resources: types.flatMap(resourceEntries)}
}

function aggregatedResource(t: ResourceType): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: t.resource,
    responseKind: {group: t.group, version: t.version, kind: t.kind},
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs,
  }
  if (t.shortNames.length) r.shortNames = t.shortNames
  if (t.categories.length) r.categories = t.categories
  const subs = t.subresources.map((s) => ({
    subresource: s,
    responseKind:
      s === 'token'
        ? {group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest'}
        : s === 'eviction'
          ? {group: 'policy', version: 'v1', kind: 'Eviction'}
          : s === 'status'
            ? {group: t.group, version: t.version, kind: t.kind}
            : {group: '', version: 'v1', kind: `${t.kind}ProxyOptions`},
    verbs: s === 'status' ? ['get', 'patch', 'update'] : s === 'token' || s === 'eviction' ? ['create'] : ['create', 'delete', 'get', 'patch', 'update'],
  }))
  if (subs.length) r.subresources = subs
  return r
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis (all named groups) */
export function aggregatedDiscovery(reg: TypeRegistry, core: boolean): Record<string, unknown> {
  const byGroup = new Map<string, Map<string, ResourceType[]>>()
  for (const t of reg.all()) {
    if (core !== (t.group === '')) continue
    const versions = byGroup.get(t.group) ?? new Map<string, ResourceType[]>()
    versions.set(t.version, [...(versions.get(t.version) ?? []), t])
    byGroup.set(t.group, versions)
  }
  const items = [...byGroup].map(([group, versions]) => ({
    metadata: group ? {name: group, creationTimestamp: null} : {creationTimestamp: null},
    versions: [...versions].map(([version, types]) => ({version, resources: types.map(aggregatedResource), freshness: 'Current'})),
  }))
  return {kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items}
}
