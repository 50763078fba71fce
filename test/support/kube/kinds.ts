/**
 * The resource types the test server serves: the built-in kinds obsctl touches, plus whatever
 * CustomResourceDefinitions add at run time (see crd.ts). Discovery, OpenAPI and routing read this.
 */
export interface ResourceType {
  group: string
  version: string
  resource: string
  kind: string
  singular: string
  listKind: string
  namespaced: boolean
  shortNames: string[]
  categories: string[]
  /** subresources served: status, token, proxy, eviction (pods) */
  subresources: string[]
  /** metadata.generation is kept and bumped when anything outside metadata/status changes */
  hasGeneration: boolean
  verbs: string[]
  /** set for kinds defined by a CRD */
  crd?: {name: string; schema?: Record<string, unknown>}
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

export function groupVersion(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version
}

type Builtin = [
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  subresources: string[],
  hasGeneration: boolean,
  categories?: string[],
]

const BUILTINS: Builtin[] = [
  ['', 'v1', 'namespaces', 'Namespace', false, ['ns'], ['status'], false],
  ['', 'v1', 'secrets', 'Secret', true, [], [], false],
  ['', 'v1', 'configmaps', 'ConfigMap', true, ['cm'], [], false],
  ['', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa'], ['token'], false],
  ['', 'v1', 'services', 'Service', true, ['svc'], ['status', 'proxy'], false, ['all']],
  ['', 'v1', 'endpoints', 'Endpoints', true, ['ep'], [], false],
  ['', 'v1', 'pods', 'Pod', true, ['po'], ['status', 'proxy', 'eviction', 'log'], false, ['all']],
  ['', 'v1', 'nodes', 'Node', false, ['no'], ['status', 'proxy'], false],
  ['', 'v1', 'events', 'Event', true, ['ev'], [], false],
  ['apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status'], true, ['all']],
  ['apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['status'], true, ['all']],
  ['apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['status'], true, ['all']],
  ['networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, ['ing'], ['status'], true],
  ['rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false, [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true, [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, [], [], false],
  ['policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], ['status'], true],
  ['apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ['crd', 'crds'], ['status'], true, ['api-extensions']],
]

export function builtinTypes(): ResourceType[] {
  return BUILTINS.map(([group, version, resource, kind, namespaced, shortNames, subresources, hasGeneration, categories]) => ({
    group,
    version,
    resource,
    kind,
    namespaced,
    shortNames,
    subresources,
    hasGeneration,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    categories: categories ?? [],
    verbs: ALL_VERBS,
  }))
}

/** Mutable registry; the CRD controller adds and removes custom kinds. */
export class TypeRegistry {
  private types: ResourceType[] = builtinTypes()

  all(): ResourceType[] {
    return this.types
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource)
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => groupVersion(t) === apiVersion && t.kind === kind)
  }

  add(t: ResourceType): void {
    this.remove(t.group, t.version, t.resource)
    this.types.push(t)
  }

  remove(group: string, version: string, resource: string): void {
    this.types = this.types.filter((t) => !(t.group === group && t.version === version && t.resource === resource))
  }

  removeCrd(crdName: string): ResourceType[] {
    const gone = this.types.filter((t) => t.crd?.name === crdName)
    this.types = this.types.filter((t) => t.crd?.name !== crdName)
    return gone
  }

  /** group → versions, in registration order (core group excluded) */
  groups(): Map<string, string[]> {
    const m = new Map<string, string[]>()
    for (const t of this.types) {
      if (!t.group) continue
      const vs = m.get(t.group) ?? []
      if (!vs.includes(t.version)) vs.push(t.version)
      m.set(t.group, vs)
    }
    return m
  }
}
