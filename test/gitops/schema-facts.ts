/**
 * The fields of the OpenSearch operator (opensearch.org/v1) and Fluent operator
 * (fluentbit.fluent.io/v1alpha2) CRDs that the rendered objects may use, from the upstream
 * CRD/Go type definitions (opensearch-k8s-operator OpenSearchCluster; fluent-operator
 * apis/fluentbit/v1alpha2). Only what our templates need; an unknown field is a test failure.
 */
type Shape = {[key: string]: Shape | 'scalar' | 'any' | [Shape | 'scalar']}

const secretRef: Shape = {name: 'scalar'}
const resources: Shape = {requests: 'any', limits: 'any'}
const fbSecret: Shape = {valueFrom: {secretKeyRef: {name: 'scalar', key: 'scalar'}}}

export const CRD_FIELDS: Record<string, Shape> = {
  'opensearch.org/v1/OpenSearchCluster': {
    general: {
      serviceName: 'scalar', version: 'scalar', httpPort: 'scalar', setVMMaxMapCount: 'scalar', pluginsList: ['scalar'],
      keystore: [{secret: secretRef, keyMappings: 'any'}], additionalConfig: 'any', serviceAccount: 'scalar', vendor: 'scalar',
    },
    security: {
      config: {adminCredentialsSecret: secretRef, securityConfigSecret: secretRef, adminSecret: secretRef},
      tls: {transport: {generate: 'scalar', perNode: 'scalar', secret: secretRef, caSecret: secretRef}, http: {generate: 'scalar', secret: secretRef, caSecret: secretRef}},
    },
    dashboards: {enable: 'scalar', version: 'scalar', replicas: 'scalar', resources, opensearchCredentialsSecret: secretRef, additionalConfig: 'any', tls: 'any'},
    nodePools: [{component: 'scalar', replicas: 'scalar', diskSize: 'scalar', jvm: 'scalar', roles: ['scalar'], resources, persistence: {pvc: {storageClass: 'scalar', accessModes: ['scalar']}, emptyDir: 'any', hostPath: 'any'}, nodeSelector: 'any', tolerations: 'any', affinity: 'any', labels: 'any', annotations: 'any'}],
  },
  'fluentbit.fluent.io/v1alpha2/FluentBit': {
    image: 'scalar', fluentBitConfigName: 'scalar', positionDB: 'any', resources, tolerations: 'any', livenessProbe: 'any', readinessProbe: 'any',
    nodeSelector: 'any', affinity: 'any', secrets: ['scalar'], metricsPort: 'scalar', disableService: 'scalar', containerLogRealPath: 'scalar', labels: 'any', annotations: 'any',
  },
  'fluentbit.fluent.io/v1alpha2/ClusterFluentBitConfig': {
    service: {
      daemon: 'scalar', flushSeconds: 'scalar', graceSeconds: 'scalar', hcErrorsCount: 'scalar', hcRetryFailureCount: 'scalar', hcPeriod: 'scalar',
      healthCheck: 'scalar', httpListen: 'scalar', httpPort: 'scalar', httpServer: 'scalar', logFile: 'scalar', logLevel: 'scalar', parsersFile: 'scalar',
    },
    inputSelector: 'any', filterSelector: 'any', outputSelector: 'any', parserSelector: 'any', namespace: 'scalar',
  },
  'fluentbit.fluent.io/v1alpha2/ClusterInput': {
    alias: 'scalar',
    tail: {
      tag: 'scalar', path: 'scalar', excludePath: 'scalar', multilineParser: 'scalar', parser: 'scalar', refreshIntervalSeconds: 'scalar', memBufLimit: 'scalar',
      skipLongLines: 'scalar', db: 'scalar', dbSync: 'scalar', readFromHead: 'scalar', bufferChunkSize: 'scalar', bufferMaxSize: 'scalar', storageType: 'scalar',
    },
  },
  'fluentbit.fluent.io/v1alpha2/ClusterFilter': {
    match: 'scalar', matchRegex: 'scalar',
    filters: [{
      kubernetes: {
        kubeURL: 'scalar', kubeCAFile: 'scalar', kubeTokenFile: 'scalar', kubeTagPrefix: 'scalar', labels: 'scalar', annotations: 'scalar',
        mergeLog: 'scalar', keepLog: 'scalar', bufferSize: 'scalar', useKubelet: 'scalar', kubeletPort: 'scalar',
      },
      recordModifier: {records: ['scalar'], removeKeys: ['scalar'], allowlistKeys: ['scalar']},
      modify: 'any',
    }],
  },
  'fluentbit.fluent.io/v1alpha2/ClusterOutput': {
    match: 'scalar', matchRegex: 'scalar', alias: 'scalar',
    opensearch: {
      host: 'scalar', port: 'scalar', path: 'scalar', httpUser: fbSecret, httpPassword: fbSecret, index: 'scalar', logstashFormat: 'scalar',
      logstashPrefix: 'scalar', logstashDateFormat: 'scalar', suppressTypeName: 'scalar', replaceDots: 'scalar', generateID: 'scalar', bufferSize: 'scalar',
      tls: {verify: 'scalar', caFile: 'scalar', vhost: 'scalar', debug: 'scalar', crtFile: 'scalar', keyFile: 'scalar'},
    },
  },
}

/** Paths in `value` that `shape` does not allow (empty = valid). */
export function unknownFields(value: unknown, shape: Shape | 'scalar' | 'any' | [Shape | 'scalar'], at = 'spec'): string[] {
  if (shape === 'any') return []
  if (shape === 'scalar') return value !== null && typeof value === 'object' ? [`${at}: expected a scalar`] : []
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${at}: expected a list`]
    return value.flatMap((v, i) => unknownFields(v, shape[0], `${at}[${i}]`))
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected an object`]
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (k in shape ? unknownFields(v, shape[k]!, `${at}.${k}`) : [`${at}.${k}: not a field of the CRD`]))
}

/** Required fields that must be present (path lists). */
export const REQUIRED: Record<string, string[][]> = {
  'opensearch.org/v1/OpenSearchCluster': [['general', 'serviceName'], ['general', 'version'], ['nodePools']],
  'fluentbit.fluent.io/v1alpha2/FluentBit': [['image'], ['fluentBitConfigName']],
  'fluentbit.fluent.io/v1alpha2/ClusterOutput': [['opensearch', 'host']],
}
