/** The shared resources of one validate run: the platform access (lib/platform) and the log freshness window. */
import type {LoadedInventory} from '../config/load.js'
import {durationSeconds, isDuration} from '../config/units.js'
import {inputError} from '../errors.js'
import {Kube, openPlatform, type PlatformOptions} from '../platform/index.js'
import type {ValidateContext} from './types.js'

export interface ValidateOptions extends PlatformOptions {
  /** --since: log freshness window (default 15m) */
  since?: string
}

export interface OpenedContext {
  ctx: ValidateContext
  close(): void
}

export async function openContext(inv: LoadedInventory, o: ValidateOptions = {}): Promise<OpenedContext> {
  const since = o.since ?? '15m'
  if (!isDuration(since)) throw inputError(`--since ${since}: expected a duration such as 15m, 1h, 2d`, [], 'BAD_SINCE')
  // the checks read the clusters through the kubeconfig: a --kubeconfig or $KUBECONFIG that cannot be read is bad input
  // (exit 2), not every cluster failing its checks
  await Kube.loadNamedConfig(o.kubeconfig)
  const opened = await openPlatform(inv, o)
  return {ctx: {...opened.ctx, since, sinceMs: durationSeconds(since) * 1000}, close: opened.close}
}
