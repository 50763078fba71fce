/**
 * alertmanager.*: the central Alertmanager's replicas formed one gossip cluster (GET /api/v2/status:
 * cluster.status ready with every replica among cluster.peers — otherwise each replica notifies on its
 * own and silences do not reach the others), and it routes to a receiver other than "null" (the chart's
 * drop-everything receiver obsctl renders for Watchdog): without one no alert reaches a person.
 * Reached as `obsctl alerts` reaches it (lib/platform/alertmanager.ts).
 */
import {alertmanagerWhere, amReceivers, amStatus} from '../../platform/index.js'
import {NULL_RECEIVER} from '../../config/alerting.js'
import {sizeOf} from '../../config/sizing.js'
import type {Check} from '../types.js'
import {fail, list, pass, warn} from './util.js'

const cluster: Check = {
  id: 'alertmanager.cluster',
  component: 'alertmanager',
  title: "Alertmanager's replicas formed one cluster (every peer joined)",
  async run(ctx) {
    const want = sizeOf(ctx.platform, 'alertmanager').replicas
    const s = await amStatus(ctx)
    const peers = s.cluster?.peers ?? []
    const state = s.cluster?.status
    if (!state)
      return fail(
        `${alertmanagerWhere(ctx)}: /api/v2/status has no cluster status`,
        'is this an Alertmanager (v0.16 or later)? check --endpoint alertmanager=URL',
      )
    if (want <= 1)
      return state === 'disabled' || peers.length >= 1
        ? pass(`1 replica (cluster ${state})`)
        : fail(`cluster ${state} with no peer`, 'kubectl -n monitoring logs statefulset/alertmanager-kube-prometheus-stack-alertmanager')
    const hint = `every replica must reach the others on the gossip port 9094 (Service alertmanager-operated): kubectl -n monitoring get pods -l alertmanager=kube-prometheus-stack-alertmanager; kubectl -n monitoring logs alertmanager-kube-prometheus-stack-alertmanager-0 | grep -i memberlist`
    if (state === 'disabled')
      return fail(`clustering is disabled, but the inventory runs ${want} replicas: each notifies on its own and a silence reaches only one`, hint)
    const names = peers.map((p) => p.address || p.name)
    if (peers.length < want) return fail(`${peers.length}/${want} peers in the cluster (${state})${names.length ? `: ${list(names)}` : ''}`, hint)
    if (state !== 'ready')
      return warn(`${peers.length}/${want} peers, cluster still ${state}`, 'settling ends within a minute of a restart; run validate again, or --wait')
    return pass(`${peers.length}/${want} peers, cluster ready: ${list(names)}`)
  },
}

const receivers: Check = {
  id: 'alertmanager.receivers',
  component: 'alertmanager',
  title: 'Alertmanager has a receiver other than "null" (alerts reach someone), and every receiver of the inventory',
  async run(ctx) {
    const live = await amReceivers(ctx)
    const real = live.filter((r) => r !== NULL_RECEIVER)
    const wanted = ctx.platform.alerting.receivers.map((r) => r.name)
    const missing = wanted.filter((w) => !live.includes(w))
    if (real.length === 0) {
      return fail(
        `only the "${NULL_RECEIVER}" receiver${live.length ? '' : ' (none at all)'}: every alert is dropped`,
        wanted.length
          ? `the inventory has ${list(wanted)}: obsctl render, push the GitOps repository and let Argo CD sync kube-prometheus-stack`
          : 'add a receiver under alerting.receivers in the inventory (email, slack, webhook or pagerduty; see docs/alerts.md), then obsctl secrets apply and render',
      )
    }
    if (missing.length)
      return fail(
        `receivers of the inventory missing in Alertmanager: ${list(missing)} (it has ${list(live)})`,
        'the running configuration is older than the inventory: obsctl render, push, and sync kube-prometheus-stack (obsctl validate argocd shows OutOfSync)',
      )
    return pass(`${real.length} receiver(s): ${list(real)}`)
  },
}

export const alertmanagerChecks: Check[] = [cluster, receivers]
