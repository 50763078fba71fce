/**
 * The pods/eviction subresource (POST /api/v1/namespaces/NS/pods/NAME/eviction, body policy/v1 Eviction),
 * as kube-apiserver's EvictionREST (pkg/registry/core/pod/storage/eviction.go) answers it:
 * - no PodDisruptionBudget selects the pod: the pod is deleted, 201 with a Success Status;
 * - more than one does: 500 "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
 * - one does and it allows no disruption: 429 TooManyRequests, message "Cannot evict pod as it would
 *   violate the pod's disruption budget." and a cause of reason "DisruptionBudget" saying
 *   "The disruption budget NAME needs N healthy pods and has M currently" (what kubectl drain prints
 *   and retries on);
 * - otherwise the budget's status is decremented and the pod deleted.
 * The disruption controller is played on the spot: the budget's status (currentHealthy, desiredHealthy,
 * expectedPods, disruptionsAllowed) is computed from the pods it selects (Ready = healthy) at each
 * eviction, as the real controller would have by then. A pod that is not Ready is evicted while the
 * budget is met (unhealthyPodEvictionPolicy IfHealthyBudget, the default).
 */
import {controllerOptions} from './controllers.js'
import type {TypeRegistry} from './kinds.js'
import type {ObjectApi} from './objects.js'
import {ApiError, badRequest} from './status.js'
import type {Obj} from './store.js'

function matches(selector: Obj | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false
  for (const e of (selector.matchExpressions ?? []) as Obj[]) {
    const has = e.key in labels
    const inValues = (e.values ?? []).includes(labels[e.key])
    if (e.operator === 'In' && !(has && inValues)) return false
    if (e.operator === 'NotIn' && has && inValues) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

const ready = (p: Obj) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')

function scaled(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v
  const m = /^(\d+)%$/.exec(String(v))
  if (!m) throw badRequest(`invalid value for IntOrString: ${String(v)}`)
  const x = (Number(m[1]) * total) / 100
  return roundUp ? Math.ceil(x) : Math.floor(x)
}

export function evict(reg: TypeRegistry, objects: ObjectApi, ns: string, name: string, body: Obj): Obj {
  const podType = reg.find('', 'v1', 'pods')!
  const pdbType = reg.find('policy', 'v1', 'poddisruptionbudgets')!
  if (body.kind !== 'Eviction') throw badRequest(`expected kind Eviction, got ${String(body.kind)}`)
  if (body.metadata?.name && body.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`)
  const pod = objects.get(podType, ns, name)
  const success: Obj = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201}
  const remove = () => {
    objects.delete(podType, ns, name, (body.deleteOptions ?? {}) as Obj, false)
    return success
  }
  if (pod.metadata.deletionTimestamp) return remove()
  const pdbs = objects.list(pdbType, ns).items.filter((b) => matches(b.spec?.selector, pod.metadata.labels))
  if (pdbs.length > 1)
    throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.')
  if (pdbs.length === 0) return remove()
  const pdb = pdbs[0]!
  const selected = objects.list(podType, ns).items.filter((p) => matches(pdb.spec?.selector, p.metadata.labels))
  const expected = selected.length
  const healthy = selected.filter(ready).length
  const desired =
    pdb.spec?.minAvailable !== undefined
      ? scaled(pdb.spec.minAvailable, expected, true)
      : pdb.spec?.maxUnavailable !== undefined
        ? expected - scaled(pdb.spec.maxUnavailable, expected, true)
        : expected
  const allowed = Math.max(0, healthy - desired)
  const writeStatus = (disruptionsAllowed: number) => {
    const fresh = objects.get(pdbType, ns, pdb.metadata.name)
    fresh.status = {
      ...(fresh.status ?? {}),
      observedGeneration: fresh.metadata.generation ?? 1,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      disruptionsAllowed,
    }
    objects.update(pdbType, ns, pdb.metadata.name, fresh, {...controllerOptions(), manager: 'kube-controller-manager'}, 'status')
  }
  if (!ready(pod) && healthy >= desired) {
    writeStatus(allowed)
    return remove()
  }
  if (allowed === 0) {
    writeStatus(0)
    throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [{reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`}],
    })
  }
  writeStatus(allowed - 1)
  return remove()
}
