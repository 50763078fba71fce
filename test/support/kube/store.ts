/**
 * In-memory object storage with one global, monotonically increasing resourceVersion (like etcd's
 * revision) and a full event history, so a watch can start from any resourceVersion it was given.
 */
/**
 * Arbitrary Kubernetes JSON, navigated by field path. The one type escape of the test server and its
 * tests (justified: a fake API server handles every kind by path, as the real one does with unstructured
 * objects; typing each kind here would be a second client). Everything else imports these two.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Loose = any
export type Obj = Record<string, Loose>

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  rv: number
  type: EventType
  group: string
  resource: string
  namespace: string
  object: Obj
  /** the object before a MODIFIED/DELETED change (for selector transitions) */
  previous?: Obj
}

export type Listener = (e: StoreEvent) => void

export function objectKey(group: string, resource: string, namespace: string, name: string): string {
  return `${group}/${resource}/${namespace}/${name}`
}

export class Store {
  private revision = 1000
  private readonly objects = new Map<string, Obj>()
  readonly history: StoreEvent[] = []
  private readonly listeners = new Set<Listener>()

  currentRv(): number {
    return this.revision
  }

  get(group: string, resource: string, namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(objectKey(group, resource, namespace, name))
    return o && structuredClone(o)
  }

  /** namespace undefined = all namespaces (or cluster-scoped) */
  list(group: string, resource: string, namespace?: string): Obj[] {
    const prefix = namespace === undefined ? `${group}/${resource}/` : `${group}/${resource}/${namespace}/`
    const out: Obj[] = []
    for (const [k, o] of this.objects) if (k.startsWith(prefix)) out.push(structuredClone(o))
    return out.sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
  }

  /** store a created or modified object: assigns the next resourceVersion and notifies watchers */
  write(group: string, resource: string, obj: Obj): Obj {
    const ns = obj.metadata.namespace ?? ''
    const key = objectKey(group, resource, ns, obj.metadata.name)
    const previous = this.objects.get(key)
    const stored = structuredClone(obj)
    stored.metadata.resourceVersion = String(++this.revision)
    this.objects.set(key, stored)
    this.emit({rv: this.revision, type: previous ? 'MODIFIED' : 'ADDED', group, resource, namespace: ns, object: stored, previous})
    return structuredClone(stored)
  }

  remove(group: string, resource: string, namespace: string, name: string): Obj | undefined {
    const key = objectKey(group, resource, namespace, name)
    const previous = this.objects.get(key)
    if (!previous) return undefined
    this.objects.delete(key)
    const gone = structuredClone(previous)
    gone.metadata.resourceVersion = String(++this.revision)
    this.emit({rv: this.revision, type: 'DELETED', group, resource, namespace, object: gone, previous})
    return structuredClone(gone)
  }

  private emit(e: StoreEvent): void {
    this.history.push(e)
    for (const l of this.listeners) l(e)
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
}
