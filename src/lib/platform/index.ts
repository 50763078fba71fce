/**
 * The platform layer: what every domain needs to reach the running platform — its names (catalogue),
 * per-cluster Kubernetes clients, service HTTP with the platform CA, credentials, and the Thanos /
 * OpenSearch / Argo CD / Alertmanager helpers. Domains (validate, status, opensearch, kube secrets) import from here,
 * never from each other's internals.
 */
export * from './catalogue.js'
export * from './access.js'
export * from './credentials.js'
export * from './http.js'
export * from './kube.js'
export * from './opensearch.js'
export * from './thanos.js'
export * from './alertmanager.js'
