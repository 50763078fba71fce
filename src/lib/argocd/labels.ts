/**
 * The `cluster-labels` phase of the change flow: the ApplicationSets select edges by the labels of their
 * Argo CD cluster Secrets (obsctl.dev/role, obsctl.dev/metrics), so when the inventory changes an edge's
 * metrics mode (`config set clusters.cluster-02.metrics agent`, or a rollback of it) the Secret's labels
 * must follow, or the ApplicationSets keep generating the old mode's Applications. An edge not registered
 * yet is left to `cluster register`; nothing else in the Secret is touched.
 */
import {centralCluster, edgeClusters, metricsMode, NAMESPACES} from '../config/model.js'
import type {Phase, Target} from '../engine/types.js'
import {kubeForCluster} from '../kube/run.js'
import type {KubeObject} from '../platform/kube.js'
import {clusterSecretName} from './cluster-secret.js'
import {LABELS} from './register.js'

export interface ClusterLabelsReport {
  /** edges whose cluster Secret got new labels, with them */
  relabelled: {cluster: string; labels: Record<string, string | null>}[]
  /** edges without a cluster Secret (not registered yet) */
  unregistered: string[]
}

export function clusterLabelsPhase(): Phase<Target, ClusterLabelsReport> {
  return {
    name: 'cluster-labels',
    kubeconfig: 'read',
    title: 'Edge cluster Secrets labelled as the inventory says',
    targets: () => [{id: 'cluster-secrets', title: 'Argo CD cluster Secrets of the edges'}],
    fingerprint: (_t, ctx) => ({run: ctx.runId}),
    describe: (_t, ctx) =>
      `set ${LABELS.role} and ${LABELS.metrics} on each edge's cluster Secret in ${NAMESPACES.argocd} on ${centralCluster(ctx.platform).name} to the inventory's role and metrics mode (the ApplicationSets select on them)`,
    async run(_t, ctx, io) {
      const kube = await kubeForCluster(ctx, centralCluster(ctx.platform).name)
      const report: ClusterLabelsReport = {relabelled: [], unregistered: []}
      for (const c of edgeClusters(ctx.platform)) {
        const name = clusterSecretName(c.apiServer)
        const live = await kube.get<KubeObject>('v1', 'Secret', name, NAMESPACES.argocd)
        if (!live) {
          report.unregistered.push(c.name)
          io.log(`${c.name}: no cluster Secret ${NAMESPACES.argocd}/${name} (obsctl cluster register ${c.name} creates it)`)
          continue
        }
        const want: Record<string, string | null> = {[LABELS.role]: c.role, [LABELS.metrics]: metricsMode(c) ?? null}
        const have = live.metadata.labels ?? {}
        const differ = Object.fromEntries(Object.entries(want).filter(([k, v]) => (have[k] ?? null) !== v))
        if (Object.keys(differ).length === 0) continue
        // a merge patch's null removes the label (RFC 7386), which KubeObject's label type cannot say
        await kube.mergePatch({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace: NAMESPACES.argocd, labels: differ as Record<string, string>}})
        report.relabelled.push({cluster: c.name, labels: differ})
        io.log(
          `${c.name}: ${NAMESPACES.argocd}/${name} labels ${Object.entries(differ)
            .map(([k, v]) => `${k}=${v ?? '(removed)'}`)
            .join(', ')}`,
        )
      }
      const n = report.relabelled.length
      return {summary: n ? `relabelled ${report.relabelled.map((r) => r.cluster).join(', ')}` : 'labels already match the inventory', report}
    },
  }
}
