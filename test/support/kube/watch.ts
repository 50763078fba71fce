/**
 * watch=true: a chunked stream of JSON watch events ({"type","object"} per line), starting after
 * the given resourceVersion (replayed from the store's history), or with synthetic ADDED events for
 * the current state when no resourceVersion (or "0") is given. Selector transitions are reported as
 * the real watch cache does: an object that stops matching yields DELETED, one that starts, ADDED.
 * sendInitialEvents=true (watch-list) sends the current state then a BOOKMARK carrying the
 * k8s.io/initial-events-end annotation; allowWatchBookmarks=true adds periodic BOOKMARKs.
 */
import type {ServerResponse} from 'node:http'
import {groupVersion, type ResourceType} from './kinds.js'
import {matches, type Selector} from './selectors.js'
import {gone} from './status.js'
import type {Obj, Store, StoreEvent} from './store.js'

export interface WatchParams {
  namespace?: string
  selector: Selector
  resourceVersion?: string
  timeoutSeconds?: number
  allowBookmarks: boolean
  sendInitialEvents: boolean
}

export class Watches {
  private readonly open = new Set<ServerResponse>()

  constructor(private readonly store: Store) {}

  serve(t: ResourceType, p: WatchParams, res: ServerResponse): void {
    const rvText = p.resourceVersion ?? ''
    const from = rvText === '' || rvText === '0' ? undefined : Number(rvText)
    if (from !== undefined && !Number.isFinite(from)) throw gone(`too old resource version: ${rvText}`)
    if (from !== undefined && from > this.store.currentRv()) {
      // the real server waits for a future revision; our clients never ask for one
    }
    res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked'})
    res.flushHeaders()
    this.open.add(res)
    const inScope = (e: StoreEvent) =>
      e.group === t.group && e.resource === t.resource && (!t.namespaced || p.namespace === undefined || e.namespace === p.namespace)
    const send = (type: string, object: Obj) => {
      if (!res.writableEnded) res.write(`${JSON.stringify({type, object})}\n`)
    }
    const deliver = (e: StoreEvent) => {
      if (!inScope(e)) return
      const now = matches(p.selector, e.object)
      const before = e.previous ? matches(p.selector, e.previous) : false
      if (e.type === 'ADDED') {
        if (now) send('ADDED', e.object)
      } else if (e.type === 'DELETED') {
        if (before || now) send('DELETED', e.object)
      } else if (now && before) send('MODIFIED', e.object)
      else if (now) send('ADDED', e.object)
      else if (before) send('DELETED', e.object)
    }
    const bookmark = (annotations?: Record<string, string>) =>
      send('BOOKMARK', {
        kind: t.kind,
        apiVersion: groupVersion(t),
        metadata: {resourceVersion: String(this.store.currentRv()), ...(annotations ? {annotations} : {})},
      })
    if (from === undefined || p.sendInitialEvents) {
      const current = this.store.list(t.group, t.resource, t.namespaced ? p.namespace : undefined)
      for (const o of current) if (matches(p.selector, o)) send('ADDED', o)
      if (p.sendInitialEvents && p.allowBookmarks) bookmark({'k8s.io/initial-events-end': 'true'})
    } else {
      for (const e of this.store.history) if (e.rv > from) deliver(e)
    }
    const unsubscribe = this.store.subscribe(deliver)
    const timers: NodeJS.Timeout[] = []
    if (p.allowBookmarks) timers.push(setInterval(() => bookmark(), 1000))
    const end = () => {
      unsubscribe()
      for (const tm of timers) clearInterval(tm)
      this.open.delete(res)
      if (!res.writableEnded) res.end()
    }
    if (p.timeoutSeconds && p.timeoutSeconds > 0) timers.push(setTimeout(end, p.timeoutSeconds * 1000))
    res.on('close', end)
  }

  closeAll(): void {
    for (const res of [...this.open]) res.end()
  }
}
