/**
 * How a command reaches the platform's services (validate, opensearch snapshot): --endpoint NAME=URL,
 * --via-api-server, --ca-file, --request-timeout. Turned into lib options by the command
 * (parseEndpointFlags in src/lib/platform/access.ts), so this file loads nothing but @oclif/core.
 */
import * as Flags from '@oclif/core/flags'
import {DAY, secondsFlag} from './seconds-flag.js'

/** The four flags; `requestTimeout` is the default of --request-timeout in seconds (10). */
export function serviceFlags(o: {requestTimeout?: number} = {}) {
  return {
    endpoint: Flags.string({
      summary:
        'Override a service URL: NAME=URL (repeatable; names: prometheus, thanos-query, thanos-compactor, opensearch, argocd, alertmanager, grafana; https only for opensearch, argocd and grafana, which get credentials).',
      multiple: true,
    }),
    'via-api-server': Flags.boolean({
      summary:
        'Reach services through the central API server’s service proxy (no DNS or ingress needed); not for opensearch, argocd or grafana without an https --endpoint (the proxy does not verify their certificates).',
    }),
    'ca-file': Flags.string({summary: 'PEM bundle of a private CA, trusted in addition to the system roots (TLS is never disabled).'}),
    'request-timeout': secondsFlag('Seconds each HTTP request may take.', o.requestTimeout ?? 10, DAY),
  }
}
