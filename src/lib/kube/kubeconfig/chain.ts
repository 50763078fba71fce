/**
 * Several kubeconfig files ($KUBECONFIG=a:b:c), written the way kubectl writes them (`kubectl config
 * --help`, checked with kubectl 1.32): "When a value is modified, it is modified in the file that
 * defines the stanza. When a value is created, it is created in the first file that exists. If no files
 * in the chain exist, then it creates the last file in the list." Reading, the first file that names an
 * entry wins and current-context comes from the first file that sets it (kubectl's merge; Kube.connect
 * reads the same way). With one file (--kubeconfig, or one path) this is planMerge on that file.
 */
import path from 'node:path'
import {yamlOrUndefined} from '../../yaml-lenient.js'
import {kubeconfigCreateFile} from '../../platform/kube.js'
import {SECTIONS, readKubeconfigFile, type KubeconfigEntries, type Obj, type SectionKey} from './parse.js'
import {planMerge, type MergePlan, type PlanMergeOptions} from './plan.js'

/** Each file's kubeconfig object ({} when missing, empty or not YAML: planMerge reports the last). */
function objectOf(text: string | undefined): Obj {
  if (!text?.trim()) return {}
  const o = yamlOrUndefined(text)
  return o && typeof o === 'object' ? (o as Obj) : {}
}

const named = (o: Obj, s: SectionKey, name: string) => Array.isArray(o[s]) && (o[s] as Obj[]).some((x) => x && x.name === name)

/** The merged view of several kubeconfigs: first file wins per named entry, first current-context set. */
export function mergedView(objs: Obj[]): Obj {
  const view: Obj = {clusters: [], users: [], contexts: []}
  for (const o of objs) {
    for (const s of SECTIONS)
      for (const x of Array.isArray(o[s]) ? (o[s] as Obj[]) : []) if (x && typeof x.name === 'string' && !named(view, s, x.name)) (view[s] as Obj[]).push(x)
    if (!view['current-context'] && typeof o['current-context'] === 'string' && o['current-context']) view['current-context'] = o['current-context']
  }
  return view
}

/** A chain of kubeconfig files read off the disk: each file's object and their merged view (kubectl's). */
export interface KubeconfigChain {
  files: string[]
  objs: Obj[]
  view: Obj
}

export function readChain(files: string[]): KubeconfigChain {
  const objs = files.map((f) => objectOf(readKubeconfigFile(f)))
  return {files, objs, view: mergedView(objs)}
}

/**
 * The API server a context of the chain points at, and the CA it is verified with: the PEM of
 * `certificate-authority-data`, or the path of `certificate-authority` (relative to the file that holds the cluster
 * entry, as kubectl resolves it). Undefined when the chain has no such context.
 */
export interface ContextServer {
  server: string
  ca?: {pem: string} | {file: string}
  /** the name the server's certificate is verified against instead of the URL's host (`tls-server-name`) */
  tlsServerName?: string
}

export function contextServer({files, objs, view}: KubeconfigChain, context: string): ContextServer | undefined {
  const ctx = (view.contexts as Obj[]).find((c) => c.name === context)?.context as Obj | undefined
  const clusterName = typeof ctx?.cluster === 'string' ? ctx.cluster : undefined
  const cl = (view.clusters as Obj[]).find((c) => c.name === clusterName)?.cluster as Obj | undefined
  const server = cl?.server
  if (!clusterName || typeof server !== 'string' || !server) return undefined
  const data = cl!['certificate-authority-data']
  const file = cl!['certificate-authority']
  const ca =
    typeof data === 'string' && data
      ? {pem: Buffer.from(data, 'base64').toString('utf8')}
      : typeof file === 'string' && file
        ? {file: path.resolve(path.dirname(fileFor(files, objs, 'clusters', clusterName)), file)}
        : undefined
  const name = cl!['tls-server-name']
  return {server, ...(ca ? {ca} : {}), ...(typeof name === 'string' && name ? {tlsServerName: name} : {})}
}

/** The file of the chain that holds an entry (the first), else where kubectl creates one. */
export function fileFor(files: string[], objs: Obj[], s: SectionKey, name: string): string {
  const i = objs.findIndex((o) => named(o, s, name))
  return i >= 0 ? files[i]! : kubeconfigCreateFile(files)
}

/** `fileFor` read off the disk: the file of the chain that holds a named entry, else where kubectl creates one. */
export function chainFileFor(files: string[], s: SectionKey, name: string): string {
  return fileFor(files, readChain(files).objs, s, name)
}

/**
 * Plan merging `entries` into a chain of kubeconfig files: one plan per file (changed or not); the
 * changes and conflicts are decided against the merged view (the same in every plan).
 */
export function planChainMerge(files: string[], entries: KubeconfigEntries[], opts: Pick<PlanMergeOptions, 'overwrite' | 'currentContext'> = {}): MergePlan[] {
  if (files.length === 1) return [planMerge(files[0]!, readKubeconfigFile(files[0]!), entries, opts)]
  const texts = files.map((f) => readKubeconfigFile(f))
  const objs = texts.map(objectOf)
  const view = mergedView(objs)
  const createIn = kubeconfigCreateFile(files)
  return files.map((file, i) =>
    planMerge(file, texts[i], entries, {
      overwrite: opts.overwrite,
      view,
      owns: (s, name) => fileFor(files, objs, s, name) === file,
      // kubectl: the first file that sets current-context keeps it; none does: the file new entries go to
      currentContext: file === createIn ? opts.currentContext : undefined,
    }),
  )
}
