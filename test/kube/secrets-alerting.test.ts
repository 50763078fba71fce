/**
 * `secrets apply` for alerting and Grafana's OpenSearch datasource, against the Kubernetes API test server:
 * the alert receivers' URLs, keys and passwords go from the env vars the inventory names into
 * monitoring/alertmanager-receivers (the keys the rendered Alertmanager config's *_file fields point at),
 * never into the rendered repository, .obsctl/ or the report; a missing env var is exit 2 naming the
 * inventory's file:line. Grafana's read-only OpenSearch user gets its Secret and its place in the security config.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import YAML from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ALERTMANAGER_SECRETS_DIR} from '../../src/lib/alerts/config.js'
import {loadInventory, type LoadedInventory} from '../../src/lib/config/load.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {renderFiles} from '../../src/lib/gitops/index.js'
import {secretsApply} from '../../src/lib/kube/secrets-apply.js'
import {receiverUrlRefusal} from '../../src/lib/kube/secrets/values.js'
import {obsctlAsync, requireBuild} from '../cli/helpers.js'
import {startKubeServers, stopKubeServers, writeFleetKubeconfig, type KubeServer} from '../support/kube/index.js'
import {filesContaining} from './fixtures.js'

const NAMES = ['cluster-01', 'cluster-02']
const ALERT_ENV = {
  OBSCTL_SMTP_PASSWORD: 'smtp-Pw-9fQ2-obsctl-test',
  OBSCTL_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0OBSCTL/B0TEST/s3cr3tSlackToken',
  OBSCTL_PAGERDUTY_ROUTING_KEY: 'pdRoutingKey0bsctl7357abcdef0123',
  OBSCTL_ALERT_WEBHOOK_URL: 'https://tickets.lab.test/hook?token=webhookT0ken-obsctl',
}
const BASE_ENV = {
  OBSCTL_S3_ACCESS_KEY: 'AKIA-alerting-test-1',
  OBSCTL_S3_SECRET_KEY: 'sEcReT-alerting-s3-Zx81',
  OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'os-Root-Pw-alerting-1',
  OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: 'fb-Pw-alerting-1',
  OBSCTL_GRAFANA_ADMIN_PASSWORD: 'graf-Pw-alerting-1',
  OBSCTL_GRAFANA_OPENSEARCH_PASSWORD: undefined,
  OBSCTL_OPENSEARCH_CA_FILE: undefined,
  CI: '1',
}
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfakeCAforAlertingTests\n-----END CERTIFICATE-----\n'

const INVENTORY = `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: lab.test
s3:
  endpoint: https://s3.minio.lab.test:9000
  buckets: {}
git:
  remote: https://git.lab.test/platform.git
clusters:
  - name: cluster-01
    id: "01"
    role: central
    apiServer: https://127.0.0.1:6443
    nodes:
      - {host: 10.0.0.1, cpu: 8, memory: 32Gi}
  - name: cluster-02
    id: "02"
    role: edge
    metrics: agent
    apiServer: https://127.0.0.2:6443
    nodes:
      - {host: 10.0.0.2, cpu: 8, memory: 32Gi}
alerting:
  defaultReceiver: ops-email
  receivers:
    - name: ops-email
      email:
        to: [ops@lab.test]
        from: alertmanager@lab.test
        smarthost: smtp.lab.test:587
        authUsername: alertmanager
        authPasswordEnv: OBSCTL_SMTP_PASSWORD
    - name: ops-slack
      slack:
        webhookUrlEnv: OBSCTL_SLACK_WEBHOOK_URL
        channel: "#alerts"
    - name: oncall
      pagerduty:
        routingKeyEnv: OBSCTL_PAGERDUTY_ROUTING_KEY
    - name: ticketing
      webhook:
        urlEnv: OBSCTL_ALERT_WEBHOOK_URL
  routes:
    - {receiver: oncall, severity: [critical]}
`

let servers: KubeServer[]
let dir: string
let kubeconfig: string
let caFile: string
let inv: LoadedInventory
const saved: Record<string, string | undefined> = {}
function setEnv(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
}

type SecretObj = {metadata: {labels?: Record<string, string>; resourceVersion: string}; data: Record<string, string>}
const secret = (s: KubeServer, ns: string, name: string) => s.getObject('secrets', ns, name) as SecretObj | undefined
const dec = (b64: string) => Buffer.from(b64, 'base64').toString('utf8')
const decodedData = (o: SecretObj) => Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, dec(v)]))
const needles = (values: string[]) => [...values, ...values.map((v) => Buffer.from(v).toString('base64'))]

beforeAll(async () => {
  servers = await startKubeServers(NAMES)
  dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-secrets-alerting-'))
  kubeconfig = path.join(dir, 'kubeconfig')
  writeFleetKubeconfig(kubeconfig, servers)
  writeFileSync(path.join(dir, 'obsctl.yaml'), INVENTORY)
  inv = loadInventory(path.join(dir, 'obsctl.yaml'))
  caFile = path.join(dir, 'os-ca.pem')
  writeFileSync(caFile, CA)
  setEnv({...BASE_ENV, ...ALERT_ENV})
}, 60_000)

afterAll(async () => {
  setEnv(Object.fromEntries(Object.keys(saved).map((k) => [k, saved[k]])))
  await stopKubeServers(servers ?? [])
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe("secrets apply: alert receivers and Grafana's OpenSearch datasource", () => {
  it('a missing receiver env var is exit 2 naming the inventory field (file:line) and the env var; nothing is written', async () => {
    setEnv({OBSCTL_SLACK_WEBHOOK_URL: undefined})
    try {
      servers.forEach((s) => s.clearRequestLog())
      const err = await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent'}).catch((e: unknown) => e)
      expect(isObsctlError(err) && err.exitCode).toBe(2)
      const line = INVENTORY.split('\n').findIndex((l) => l.includes('webhookUrlEnv: OBSCTL_SLACK_WEBHOOK_URL')) + 1
      expect((err as Error).message).toContain(`${inv.file}:${line}:`)
      expect((err as Error).message).toContain('alerting.receivers[1].slack.webhookUrlEnv: $OBSCTL_SLACK_WEBHOOK_URL is not set')
      expect((err as {hints: string[]}).hints.join(' ')).toContain('export OBSCTL_SLACK_WEBHOOK_URL=')
      for (const s of servers) expect(s.requestLog.filter((e) => e.method !== 'GET')).toEqual([])

      // the CLI says the same on stderr, exit 2
      requireBuild()
      const out = await obsctlAsync(['secrets', 'apply', '-c', inv.file, '--kubeconfig', kubeconfig, '--opensearch-ca-file', caFile], {
        env: {OBSCTL_SLACK_WEBHOOK_URL: undefined},
      })
      expect(out.status).toBe(2)
      expect(out.stderr).toContain(`${inv.file}:${line}:`)
      expect(out.stderr).toContain('OBSCTL_SLACK_WEBHOOK_URL')
    } finally {
      setEnv({OBSCTL_SLACK_WEBHOOK_URL: ALERT_ENV.OBSCTL_SLACK_WEBHOOK_URL})
    }
  }, 120_000)

  it('a receiver URL that would carry its credential in cleartext is exit 2 naming the field (file:line) and the env var, never the value; nothing is written', async () => {
    const slackLine = INVENTORY.split('\n').findIndex((l) => l.includes('webhookUrlEnv: OBSCTL_SLACK_WEBHOOK_URL')) + 1
    const hookLine = INVENTORY.split('\n').findIndex((l) => l.includes('urlEnv: OBSCTL_ALERT_WEBHOOK_URL')) + 1
    const cases = [
      // the Slack URL is the credential (its path is the token): https only
      {
        env: {OBSCTL_SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/T0OBSCTL/B0TEST/s3cr3tSlackToken'},
        at: `${inv.file}:${slackLine}:`,
        secret: 's3cr3tSlackToken',
      },
      // a user and password in an http webhook URL become a Basic header Alertmanager would send in cleartext
      {env: {OBSCTL_ALERT_WEBHOOK_URL: 'http://alerts:hookPassw0rd@127.0.0.1:9/hook'}, at: `${inv.file}:${hookLine}:`, secret: 'hookPassw0rd'},
      // a token in the query or the path travels as readably as a password does
      {env: {OBSCTL_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook?token=tkn-Query-0001'}, at: `${inv.file}:${hookLine}:`, secret: 'tkn-Query-0001'},
      {
        env: {OBSCTL_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/9f8e7d6c5b4a39281706f5e4d3c2b1a0'},
        at: `${inv.file}:${hookLine}:`,
        secret: '9f8e7d6c5b4a3928',
      },
    ]
    try {
      for (const c of cases) {
        setEnv({...ALERT_ENV, ...c.env})
        servers.forEach((s) => s.clearRequestLog())
        const err = await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent'}).catch((e: unknown) => e)
        expect(isObsctlError(err) && err.exitCode).toBe(2)
        expect(isObsctlError(err) && err.code).toBe('ALERTING_PLAIN_HTTP')
        const text = `${(err as Error).message}\n${(err as {hints: string[]}).hints.join('\n')}`
        expect(text).toContain(c.at)
        expect(text).toContain(`$${Object.keys(c.env)[0]}`)
        expect(text).toContain('https://')
        expect(text).not.toContain(c.secret)
        for (const s of servers) expect(s.requestLog.filter((e) => e.method !== 'GET')).toEqual([])
      }
    } finally {
      setEnv(ALERT_ENV)
    }
    // a webhook over http without a credential (an in-cluster receiver) stays allowed: plain names in its path and query
    const hook = (url: string) => receiverUrlRefusal({kind: 'webhook', field: 'urlEnv', receiver: 'ticketing'}, url)
    expect(hook('http://alert-sink.monitoring.svc:8080/hook')).toBeUndefined()
    expect(hook('http://alert-sink.monitoring.svc:8080/api/v1/alerts?cluster=cluster-01&severity=critical&format=json')).toBeUndefined()
    // what reads as a credential: a secret-named parameter, a credential-shaped value or path segment (also %-encoded)
    expect(hook('http://alert-sink:8080/hook?api_key=x')?.why).toContain('in its query')
    expect(hook('http://alert-sink:8080/api/hook?code=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA')?.why).toContain('in its query')
    expect(hook('http://alert-sink:8080/hooks/P4ss%21word')?.why).toContain('in its path')
    expect(hook('https://alert-sink:8443/hook?token=abc')).toBeUndefined()
    expect(receiverUrlRefusal({kind: 'slack', field: 'webhookUrlEnv', receiver: 'ops-slack'}, ALERT_ENV.OBSCTL_SLACK_WEBHOOK_URL)).toBeUndefined()
  }, 120_000)

  it('creates monitoring/alertmanager-receivers with the env values under the keys the rendered *_file fields name, on the central cluster only', async () => {
    const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent'})
    const [central, edge] = servers
    const s = secret(central!, 'monitoring', 'alertmanager-receivers')!
    expect(s.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('obsctl')
    expect(decodedData(s)).toEqual({
      'ops-email.smtp-password': ALERT_ENV.OBSCTL_SMTP_PASSWORD,
      'ops-slack.slack-webhook-url': ALERT_ENV.OBSCTL_SLACK_WEBHOOK_URL,
      'oncall.pagerduty-routing-key': ALERT_ENV.OBSCTL_PAGERDUTY_ROUTING_KEY,
      'ticketing.webhook-url': ALERT_ENV.OBSCTL_ALERT_WEBHOOK_URL,
    })
    expect(secret(edge!, 'monitoring', 'alertmanager-receivers')).toBeUndefined()
    // every *_file of the rendered config is a key of that Secret, under the directory the operator mounts it at
    const values = YAML.parse(renderFiles(inv.platform).find((f) => f.path === 'deploy/overlays/cluster-01-central/kube-prometheus-stack/values.yaml')!.content)
    expect(values.alertmanager.alertmanagerSpec.secrets).toEqual(['alertmanager-receivers'])
    const files = [...JSON.stringify(values.alertmanager.config).matchAll(/"[a-z_]+_file":"([^"]+)"/g)].map((m) => m[1]!)
    expect(files.sort()).toEqual(
      Object.keys(s.data)
        .map((k) => `${ALERTMANAGER_SECRETS_DIR}/alertmanager-receivers/${k}`)
        .sort(),
    )
    expect(r.sources['alerting ops-slack.slack-webhook-url']).toBe('$OBSCTL_SLACK_WEBHOOK_URL')
  })

  it("Grafana's OpenSearch user: its Secret (generated password, the OpenSearch CA), its bcrypt hash and a read-only role", async () => {
    const central = servers[0]!
    const g = decodedData(secret(central, 'monitoring', 'grafana-opensearch-credentials')!)
    expect(g.username).toBe('grafana')
    expect(g.password).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(g['ca.crt']).toBe(CA)
    const security = decodedData(secret(central, 'logging', 'opensearch-security-config')!)
    expect(bcrypt.compareSync(g.password!, YAML.parse(security['internal_users.yml']!).grafana.hash)).toBe(true)
    const role = YAML.parse(security['roles.yml']!).grafana_reader
    expect(role.index_permissions).toEqual([{index_patterns: ['fluent-bit-*'], allowed_actions: ['read', 'indices:admin/mappings/get', 'indices:admin/get']}])
    expect(JSON.stringify(role)).not.toMatch(/crud|write|delete|create_index|put/)
    expect(YAML.parse(security['roles_mapping.yml']!).grafana_reader.users).toEqual(['grafana'])
  })

  it('a rerun writes nothing (the generated Grafana password is kept); a changed receiver value updates just that Secret', async () => {
    const before = servers.map((s) =>
      s
        .listObjects('secrets')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort(),
    )
    const again = await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent'})
    expect(again.sources['Grafana OpenSearch password']).toBe('cluster (kept)')
    expect(
      servers.map((s) =>
        s
          .listObjects('secrets')
          .map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)
          .sort(),
      ),
    ).toEqual(before)

    setEnv({OBSCTL_PAGERDUTY_ROUTING_KEY: 'pdRoutingKeyRotated-0bsctl-2'})
    try {
      const r = await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent', clusters: ['cluster-01']})
      const c = r.clusters[0] as {secrets: {name: string; action: string}[]}
      expect(c.secrets.filter((s) => s.action !== 'unchanged').map((s) => `${s.name}:${s.action}`)).toEqual(['alertmanager-receivers:updated'])
      expect(dec(secret(servers[0]!, 'monitoring', 'alertmanager-receivers')!.data['oncall.pagerduty-routing-key']!)).toBe('pdRoutingKeyRotated-0bsctl-2')
    } finally {
      setEnv({OBSCTL_PAGERDUTY_ROUTING_KEY: ALERT_ENV.OBSCTL_PAGERDUTY_ROUTING_KEY})
    }
  })

  it('no receiver value in the rendered repository, in .obsctl/ (state, logs) or in the report', async () => {
    const values = [...Object.values(ALERT_ENV), 'pdRoutingKeyRotated-0bsctl-2']
    const grafanaPw = dec(secret(servers[0]!, 'monitoring', 'grafana-opensearch-credentials')!.data.password!)
    const all = needles([...values, grafanaPw])
    for (const f of renderFiles(inv.platform)) for (const n of all) expect(f.content.includes(n), `${f.path} holds a secret value`).toBe(false)
    expect(filesContaining(path.join(dir, '.obsctl'), all)).toEqual([])
    expect(filesContaining(path.join(dir, '.obsctl'), ['alertmanager-receivers']).length).toBeGreaterThan(0) // the logs exist and name it
    const json = JSON.stringify(await secretsApply(inv, {kubeconfig, opensearchCaFile: caFile, renderer: 'silent'}))
    for (const n of all) expect(json).not.toContain(n)
  })
})
