/**
 * The certificate flows (issue 15): `certs check` is the one read-only phase; `certs renew` renews on
 * every control-plane node, one at a time, then merges the renewed admin.conf into the kubeconfig
 * (the `kubeconfig` phase, always reading admin.conf again).
 */
import type {CertsCheckOptions, CertsRenewOptions} from '../lifecycle/certs.js'
import type {FlowOptions} from './registry.js'

export const CERTS_CHECK_PHASES = ['certs-check'] as const
export type CertsCheckPhase = (typeof CERTS_CHECK_PHASES)[number]

export const CERTS_RENEW_PHASES = ['certs-renew', 'kubeconfig'] as const
export type CertsRenewPhase = (typeof CERTS_RENEW_PHASES)[number]

export function certsCheckPhaseOptions(o: CertsCheckOptions = {}): FlowOptions<CertsCheckPhase> {
  return {'certs-check': o}
}

export function certsRenewPhaseOptions(o: CertsRenewOptions = {}): FlowOptions<CertsRenewPhase> {
  // the renewed admin.conf holds a new client certificate: an update of the cluster's user entry
  return {'certs-renew': o, kubeconfig: {recheck: true}}
}
