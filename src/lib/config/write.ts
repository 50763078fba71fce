/** Writing a new commented inventory (obsctl init); the example is the seed's lab. */
import {API_VERSION, KIND} from './schema.js'
import {urlHost} from './validators.js'
import {yamlScalar as y} from '../yaml-scalar.js'

export interface InitCluster {
  name: string
  id: string
  role: 'central' | 'edge'
  metrics?: 'remote-scrape' | 'agent'
  hosts: string[]
  cpu: string
  memory: string
  loadBalancerIPs?: string[]
}

export interface InitAnswers {
  domain: string
  sshUser: string
  identityFile?: string
  s3Endpoint: string
  gitRemote: string
  profile: 'lab' | 'production'
  clusters: InitCluster[]
}

/** The seed's lab: one central (194), three edges (196 agent, 197/198 remote-scrape). */
export const EXAMPLE_ANSWERS: InitAnswers = {
  domain: 'miribit.lab',
  sshUser: 'bsh',
  // no identityFile: the example must validate on any workstation; the written file shows the line to uncomment
  s3Endpoint: 'https://s3.minio.miribit.lab',
  gitRemote: 'https://git.miribit.lab/platform/thanos-multi-cluster.git',
  profile: 'lab',
  clusters: [
    {name: 'cluster-01', id: '01', role: 'central', hosts: ['192.168.101.194'], cpu: '4', memory: '16Gi', loadBalancerIPs: ['192.168.101.210-192.168.101.214']},
    {
      name: 'cluster-02',
      id: '02',
      role: 'edge',
      metrics: 'agent',
      hosts: ['192.168.101.196'],
      cpu: '4',
      memory: '16Gi',
      loadBalancerIPs: ['192.168.101.215-192.168.101.219'],
    },
    {
      name: 'cluster-03',
      id: '03',
      role: 'edge',
      metrics: 'remote-scrape',
      hosts: ['192.168.101.197'],
      cpu: '4',
      memory: '16Gi',
      loadBalancerIPs: ['192.168.101.220-192.168.101.224'],
    },
    {
      name: 'cluster-04',
      id: '04',
      role: 'edge',
      metrics: 'remote-scrape',
      hosts: ['192.168.101.198'],
      cpu: '4',
      memory: '16Gi',
      loadBalancerIPs: ['192.168.101.225-192.168.101.229'],
    },
  ],
}

const q = (s: string) => JSON.stringify(s)

function clusterYaml(c: InitCluster): string {
  const lines = [`  - name: ${y(c.name)}`, `    id: ${q(c.id)}`, `    role: ${c.role}`]
  if (c.role === 'edge') {
    lines.push(
      `    # remote-scrape: a Prometheus of its own on central scrapes this cluster through its API server`,
      `    # agent: a Prometheus Agent (~200Mi) here remote-writes to Thanos Receive on central`,
      `    metrics: ${c.metrics ?? 'remote-scrape'}`,
    )
  }
  lines.push(`    apiServer: ${y(`https://${urlHost(c.hosts[0]!)}:6443`)}`)
  if (c.loadBalancerIPs?.length) lines.push(`    loadBalancerIPs: [${c.loadBalancerIPs.map(q).join(', ')}]   # Cilium L2 LB pool`)
  lines.push(`    nodes:`)
  c.hosts.forEach((h, i) => {
    lines.push(
      `      - host: ${y(h)}`,
      `        roles: [${i === 0 ? 'control-plane, worker' : 'worker'}]`,
      `        cpu: ${q(c.cpu)}`,
      `        memory: ${y(c.memory)}`,
    )
  })
  return lines.join('\n')
}

/** A commented obsctl.yaml that passes `config validate`. */
export function renderInventoryYaml(a: InitAnswers): string {
  return `# obsctl inventory: the whole platform in one file.
# Reference: README.md "Inventory"; JSON Schema: obsctl config schema
# yaml-language-server: $schema=./.obsctl/schema.json
apiVersion: ${API_VERSION}
kind: ${KIND}
domain: ${y(a.domain)}            # services are <service>.k8s-cluster-<id>.${a.domain}
# lab fits 4-core/16 GB machines; production is the tuning for larger machines (bigger requests and heaps)
profile: ${a.profile}

ssh:
  user: ${y(a.sshUser)}
${a.identityFile ? `  identityFile: ${y(a.identityFile)}` : '  # identityFile: ~/.ssh/id_ed25519   # else the ssh-agent; else a password prompt'}
  sudo: nopasswd               # or: password (prompted once, sent on stdin, never logged)

s3:
  endpoint: ${y(a.s3Endpoint)}
  # caFile: ./minio-ca.pem      # a private CA; TLS verification is never turned off
  # credentials are read from these environment variables, never stored here
  accessKeyEnv: OBSCTL_S3_ACCESS_KEY
  secretKeyEnv: OBSCTL_S3_SECRET_KEY
  buckets:
    metrics: {name: thanos-metrics}
    # no expireAfter here, ever: OpenSearch deletes its snapshots itself (snapshot management policy)
    snapshots: {name: opensearch-snapshots}
    backups: {name: longhorn-backups}

git:
  remote: ${y(a.gitRemote)}
  branch: main
  dir: gitops                  # local working copy, beside this file

versions:
  kubernetes: "1.34"
  argocd: v3.1.9
  charts:
    kube-prometheus-stack: 78.2.1
    longhorn: 1.10.0
    cilium: 1.18.2
    opensearch-operator: 3.0.0
    fluent-operator: 3.4.2
  opensearch: 2.19.3
  fluentBit: 4.0.1               # ghcr.io/fluent/fluent-operator/fluent-bit (the operator's image)
  thanos: v0.39.2

retention:
  prometheus: 6h               # local; the sidecar uploads 2h blocks to S3
  thanos:                      # only raw, 5m and 1h exist; raw >= 40h, 5m >= 10d
    raw: 30d
    5m: 90d
    1h: 180d
  opensearch:
    deleteAfter: 180d          # log indices, and their daily snapshots in S3

# Where Alertmanager sends alerts. With no receiver, alerts reach nobody (config validate warns).
# URLs, keys and passwords are read from the env vars named here by \`obsctl secrets apply\`, never stored here.
# alerting:
#   defaultReceiver: ops-email       # what no route matches (default: the first receiver)
#   receivers:
#     - name: ops-email
#       email: {to: [ops@${a.domain}], from: alertmanager@${a.domain}, smarthost: smtp.${a.domain}:587, authUsername: alertmanager, authPasswordEnv: OBSCTL_SMTP_PASSWORD}
#     - name: ops-slack
#       slack: {webhookUrlEnv: OBSCTL_SLACK_WEBHOOK_URL, channel: "#alerts"}
#     - name: oncall
#       pagerduty: {routingKeyEnv: OBSCTL_PAGERDUTY_ROUTING_KEY}
#     - name: ticketing
#       webhook: {urlEnv: OBSCTL_ALERT_WEBHOOK_URL}
#   routes:                          # first match wins unless continue: true
#     - {receiver: oncall, severity: [critical], continue: true}
#     - {receiver: ops-slack, severity: [critical, warning]}
#     - {receiver: ticketing, clusters: [cluster-02]}

clusters:
${a.clusters.map(clusterYaml).join('\n')}
`
}
