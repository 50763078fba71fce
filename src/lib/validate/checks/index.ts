import type {Check} from '../types.js'
import {alertmanagerChecks} from './alertmanager.js'
import {argocdChecks} from './argocd.js'
import {certificateChecks} from './certificates.js'
import {fluentBitChecks} from './fluentbit.js'
import {opensearchChecks} from './opensearch.js'
import {prometheusChecks} from './prometheus.js'
import {thanosChecks} from './thanos.js'

/** Every check, in display order (grouped by component). */
export const ALL_CHECKS: Check[] = [
  ...argocdChecks,
  ...prometheusChecks,
  ...thanosChecks,
  ...opensearchChecks,
  ...fluentBitChecks,
  ...alertmanagerChecks,
  ...certificateChecks,
]
export const CHECK_IDS = ALL_CHECKS.map((c) => c.id)
