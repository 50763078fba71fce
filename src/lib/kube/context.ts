/**
 * `--context NAME` on a command that targets one cluster: that cluster is reached (or, for kubeconfig
 * merge, written) under this kubeconfig context for the run, instead of the inventory's clusters[].context
 * (default `<name>-context`). A context that is not in the kubeconfig is refused before anything runs
 * (exit 2), naming the contexts that are there.
 */
import path from 'node:path'
import {yamlOrUndefined} from '../yaml-lenient.js'
import type {LoadedInventory} from '../config/load.js'
import {findCluster} from '../config/model.js'
import {dnsSubdomainError} from '../config/validators.js'
import {inputError} from '../errors.js'
import {kubeconfigFiles} from '../platform/index.js'
import {mergedView, readKubeconfigFile, type Obj} from './kubeconfig/index.js'

/** The context names of the kubeconfig (--kubeconfig, else every $KUBECONFIG file merged, else ~/.kube/config). */
export function kubeconfigContexts(kubeconfig?: string): {files: string[]; contexts: string[]} {
  const files = kubeconfigFiles(kubeconfig, {read: true})
  const objs: Obj[] = []
  for (const f of files) {
    const text = readKubeconfigFile(f)
    if (!text?.trim()) continue
    // a file that is not YAML: the connection reports it with the file's name
    const o = yamlOrUndefined(text)
    if (o && typeof o === 'object') objs.push(o as Obj)
  }
  const contexts = (mergedView(objs).contexts as Obj[]).map((c) => String(c.name))
  return {files, contexts}
}

/**
 * Use `context` for `cluster` in this run (nothing when `context` is undefined). `mustExist`: the
 * command reads through the context, so it must be in the kubeconfig; else (kubeconfig merge) it is the
 * name written, a lower-case DNS name as clusters[].context.
 */
export function useContext(inv: LoadedInventory, cluster: string, context: string | undefined, o: {kubeconfig?: string; mustExist: boolean}): void {
  if (context === undefined) return
  const c = findCluster(inv.platform, cluster)
  if (!c) throw inputError(`cluster ${cluster} is not in the inventory`, [`clusters: ${inv.platform.clusters.map((x) => x.name).join(', ')}`], 'BAD_ARGS')
  if (o.mustExist) {
    const {files, contexts} = kubeconfigContexts(o.kubeconfig)
    if (!contexts.includes(context)) {
      throw inputError(
        `--context ${context}: no such context in ${files.join(path.delimiter)}`,
        [
          contexts.length > 0 ? `contexts there: ${contexts.join(', ')}` : 'it has no contexts: run obsctl kubeconfig merge',
          'pass --context with one of them, or --kubeconfig with the file that has it',
        ],
        'BAD_FLAGS',
      )
    }
  } else {
    const why = dnsSubdomainError(context)
    if (why) throw inputError(`--context ${context}: ${why}`, ['a context name obsctl writes is a lower-case DNS name, e.g. lab-central'], 'BAD_FLAGS')
  }
  c.context = context
}
