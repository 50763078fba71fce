/** Kube clients shared within one engine run (one per cluster context, created on first use). */
import type {RunContext} from '../engine/types.js'
import {findCluster, kubeContextName} from '../config/model.js'
import {Kube} from '../platform/kube.js'

/** The kubeconfig path a run uses: the run's --kubeconfig, else the default resolution. */
export function runKubeconfig(ctx: Pick<RunContext, 'kubeconfig'>): string | undefined {
  return ctx.kubeconfig
}

/** The client of one inventory cluster, through its context (clusters[].context, else `<name>-context`). */
export function kubeForCluster(ctx: RunContext, cluster: string): Promise<Kube> {
  const context = kubeContextName(findCluster(ctx.platform, cluster) ?? cluster)
  return ctx.resources.getOrCreate(`kube:${cluster}`, () => Kube.connect({kubeconfig: runKubeconfig(ctx), context, signal: ctx.signal}))
}
