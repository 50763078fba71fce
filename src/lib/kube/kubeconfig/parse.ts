/**
 * Reading kubeconfigs: a kubeadm admin.conf (the current context's cluster and user), the entries obsctl
 * names after a cluster (cluster `<cluster>`, user `<cluster>-admin`, context clusters[].context, default `<cluster>-context`, server
 * from the inventory), and the target kubeconfig as a yaml Document (for planning and editing).
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {Document} from 'yaml'
import {yaml} from '../../lazy-deps.js'
import type {Cluster} from '../../config/schema.js'
import {kubeClusterName, kubeContextName, kubeUserName} from '../../config/model.js'
import {errorMessage, fsReason, inputError, ObsctlError} from '../../errors.js'

export type Obj = Record<string, unknown>

/** The credentials of one admin.conf: its (current context's) cluster fields and user fields. */
export interface AdminConf {
  /** cluster fields (certificate-authority-data, …); `server` is replaced by the inventory's */
  cluster: Obj
  /** user fields (client-certificate-data, client-key-data or token, …) */
  user: Obj
  /** the server the file itself named (shown when it differs from the inventory's) */
  server?: string
  /** where it came from, for messages: `ssh root@10.0.0.1:/etc/kubernetes/admin.conf` or a path */
  source: string
}

/** The three named entries obsctl owns for one cluster. */
export interface KubeconfigEntries {
  cluster: string
  clusterEntry: {name: string; cluster: Obj}
  userEntry: {name: string; user: Obj}
  contextEntry: {name: string; context: Obj}
}

export type SectionKey = 'clusters' | 'users' | 'contexts'
export const SECTIONS: SectionKey[] = ['clusters', 'users', 'contexts']
export const FIELD: Record<SectionKey, 'cluster' | 'user' | 'context'> = {clusters: 'cluster', users: 'user', contexts: 'context'}

export const KUBECONFIG_MODE = 0o600
export const ADMIN_CONF_PATH = '/etc/kubernetes/admin.conf'

/** Parse a kubeadm admin.conf (any kubeconfig): the current context's cluster and user. */
export function parseAdminConf(text: string, source: string): AdminConf {
  let doc: unknown
  try {
    doc = yaml().parse(text)
  } catch (error) {
    throw inputError(
      `${source} is not a kubeconfig: ${errorMessage(error)}`,
      ['it should be a copy of /etc/kubernetes/admin.conf from the control-plane node'],
      'KUBECONFIG_SOURCE',
    )
  }
  const bad = (why: string) =>
    inputError(
      `${source} is not a usable admin kubeconfig: ${why}`,
      ['it should be a copy of /etc/kubernetes/admin.conf from the control-plane node'],
      'KUBECONFIG_SOURCE',
    )
  if (!doc || typeof doc !== 'object') throw bad('empty or not a mapping')
  const kc = doc as Obj
  const contexts = namedList(kc.contexts)
  const clusters = namedList(kc.clusters)
  const users = namedList(kc.users)
  const current =
    typeof kc['current-context'] === 'string' && kc['current-context'] ? kc['current-context'] : contexts.length === 1 ? contexts[0]!.name : undefined
  if (!current) throw bad(`no current-context and ${contexts.length} contexts`)
  const ctx = contexts.find((c) => c.name === current)?.value as Obj | undefined
  if (!ctx) throw bad(`current-context ${current} is not among its contexts`)
  const cluster = clusters.find((c) => c.name === ctx.cluster)?.value as Obj | undefined
  const user = users.find((u) => u.name === ctx.user)?.value as Obj | undefined
  if (!cluster) throw bad(`cluster ${String(ctx.cluster)} of context ${current} is missing`)
  if (!user) throw bad(`user ${String(ctx.user)} of context ${current} is missing`)
  if (typeof cluster['certificate-authority'] === 'string' && !cluster['certificate-authority-data']) {
    throw bad('it names its CA by file path (certificate-authority); obsctl needs certificate-authority-data (kubeadm writes it)')
  }
  if (!cluster['certificate-authority-data']) throw bad('the cluster has no certificate-authority-data; obsctl never skips TLS verification')
  for (const k of ['client-certificate', 'client-key'] as const) {
    if (typeof user[k] === 'string' && !user[`${k}-data`]) throw bad(`its user names ${k} by file path; obsctl needs ${k}-data (kubeadm writes it)`)
  }
  const {server, ...rest} = cluster
  return {cluster: rest, user: {...user}, server: typeof server === 'string' ? server : undefined, source}
}

function namedList(v: unknown): {name: string; value: unknown}[] {
  if (!Array.isArray(v)) return []
  const out: {name: string; value: unknown}[] = []
  for (const x of v) {
    if (x && typeof x === 'object' && typeof (x as Obj).name === 'string') {
      const o = x as Obj
      const key = 'cluster' in o ? 'cluster' : 'user' in o ? 'user' : 'context'
      out.push({name: o.name as string, value: o[key] ?? {}})
    }
  }
  return out
}

/** The entries for one cluster: renamed, `server` from the inventory. */
export function entriesFor(cluster: Cluster, admin: AdminConf): KubeconfigEntries {
  const clusterName = kubeClusterName(cluster)
  const userName = kubeUserName(cluster)
  return {
    cluster: cluster.name,
    // key order as kubectl writes entries
    clusterEntry: {cluster: {...admin.cluster, server: cluster.apiServer}, name: clusterName},
    userEntry: {name: userName, user: admin.user},
    contextEntry: {context: {cluster: clusterName, user: userName}, name: kubeContextName(cluster)},
  }
}

export function parseKubeconfigDocument(text: string, file: string): Document {
  const docs = yaml().parseAllDocuments(text)
  const bad = (why: string) =>
    inputError(`cannot merge into ${file}: ${why}`, ['fix the file, or pass --kubeconfig with another file (obsctl creates it if missing)'], 'KUBECONFIG_PARSE')
  if (!Array.isArray(docs)) throw bad('it is not YAML')
  if (docs.length !== 1) throw bad(`it holds ${docs.length} YAML documents, a kubeconfig holds one`)
  const doc = docs[0]!
  if (doc.errors.length > 0) throw bad(doc.errors[0]!.message)
  if (!yaml().isMap(doc.contents)) throw bad('its top level is not a mapping')
  for (const s of SECTIONS) {
    const v = doc.contents.get(s, true)
    if (v !== undefined && !yaml().isSeq(v) && !(yaml().isScalar(v) && v.value === null)) throw bad(`${s} is not a list`)
  }
  return doc as Document
}

/** Read the target kubeconfig (undefined when it does not exist). */
export function readKubeconfigFile(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read kubeconfig ${file}: ${fsReason(error)}`, ['pass --kubeconfig with a file you can read and write'], 'KUBECONFIG')
  }
}

/** Parse repeated `--from-file CLUSTER=PATH` values against the inventory's clusters. */
export function parseFromFiles(values: string[] | undefined, clusterNames: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    const name = i > 0 ? v.slice(0, i) : ''
    const file = i > 0 ? v.slice(i + 1) : ''
    if (!name || !file) throw inputError(`--from-file ${v}: expected CLUSTER=PATH`, ['e.g. --from-file cluster-02=./cluster-02-admin.conf'], 'BAD_FLAGS')
    if (!clusterNames.includes(name))
      throw inputError(`--from-file ${v}: ${name} is not a cluster of the inventory`, [`clusters: ${clusterNames.join(', ')}`], 'BAD_FLAGS')
    if (out.has(name)) throw inputError(`--from-file names ${name} twice`, [], 'BAD_FLAGS')
    out.set(name, path.resolve(file))
  }
  return out
}

/** Read an admin.conf the user already has. */
export function readAdminConfFile(file: string): AdminConf {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw inputError(`cannot read ${file}: ${fsReason(error)}`, ['--from-file CLUSTER=PATH: PATH is a copy of /etc/kubernetes/admin.conf'], 'KUBECONFIG_SOURCE')
  }
  try {
    return parseAdminConf(text, file)
  } catch (error) {
    // the file came from --from-file: say so, beside what it should be
    if (error instanceof ObsctlError) error.hints.push('--from-file CLUSTER=PATH names it')
    throw error
  }
}
