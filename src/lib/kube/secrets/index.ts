/**
 * `obsctl secrets apply` (the `secrets` phase): the credentials the rendered GitOps repo references by
 * name (SECRET_NAMES) are created in the clusters directly, never in Git.
 *
 *   central  monitoring  thanos-objstore                   objstore.yml (Thanos S3 config)
 *   central  monitoring  grafana-admin-credentials         admin-user, admin-password
 *   central  logging     opensearch-admin-credentials      username, password
 *   central  logging     opensearch-s3-keystore            s3.client.default.access_key, s3.client.default.secret_key
 *   central  logging     opensearch-security-config        config.yml, internal_users.yml (bcrypt hashes), roles.yml, …
 *   central  logging     opensearch-http-tls               tls.crt, tls.key, ca.crt (kubernetes.io/tls; OpenSearch's HTTP certificate)
 *   central  monitoring  obsctl-ingress-tls                tls.crt, tls.key, ca.crt (kubernetes.io/tls; grafana, thanos-query, thanos-receive)
 *   central  logging     obsctl-ingress-tls                tls.crt, tls.key, ca.crt (kubernetes.io/tls; opensearch-dashboards)
 *   every    longhorn-system longhorn-backup-credentials   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINTS (+ AWS_CERT)
 *   every    logging     fluentbit-opensearch-credentials  username, password (+ ca.crt: the central OpenSearch CA)
 *   central  monitoring  grafana-opensearch-credentials    username, password (+ ca.crt): Grafana's OpenSearch datasource (read-only user grafana)
 *   central  monitoring  alertmanager-receivers            <receiver>.<what>: the URLs, keys and passwords of alerting.receivers (when any)
 *   agent    monitoring  obsctl-platform-ca                ca.crt: the CA of the central ingresses (the Prometheus Agent verifies Thanos Receive)
 *
 * Values live only in memory: from env vars, a prompt on a terminal, the cluster itself (a rerun keeps
 * what is there) or, with --generate-passwords, crypto.randomBytes. Nothing here logs or returns a value.
 * Grafana's OpenSearch password is a machine credential nobody types: env var, else the cluster's, else
 * generated. Alert receivers' values come only from the env vars the inventory names (a missing one is
 * bad input naming the inventory's file:line).
 *
 * The two TLS Secrets hold certificates issued from the platform CA kept beside the inventory
 * (.obsctl/pki/ca.crt and ca.key, mode 0600; see pki.ts), their keys only in memory. A live certificate
 * of obsctl's (label app.kubernetes.io/managed-by=obsctl) that is still right (issued by this CA, more
 * than 30 days left, valid for every wanted host) is reused as it is; any other is replaced. A TLS
 * Secret without that label is the user's own certificate (their PKI): never touched, reported as
 * "kept". Fluent Bit's ca.crt follows what the central OpenSearch serves.
 */
export * from './catalogue.js'
export * from './security-config.js'
export * from './tls.js'
export * from './values.js'
export * from './apply.js'
