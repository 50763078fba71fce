/**
 * The inventory's optional settings against upstream (rendered.test.ts checks the example and a fleet, which
 * leave most of them at their defaults). Each row sets the optional fields a platform engineer would, in the
 * forms they come in (IPv6 addresses, an IP address as a URL host, long names, compound durations, ssh remotes…),
 * through the project's own editing API, so each row is an inventory a user can write:
 * each row must pass `config validate` (setInventoryValue lints every edit) and render a repository without a
 * finding against upstream (checkRepository: CRD schemas, the Kubernetes OpenAPI and the validation rules it cannot
 * express, chart values, Thanos flags), its LoadBalancer IP pools holding exactly the addresses the inventory names,
 * as Cilium's LB IPAM reads the blocks. Each row is rendered once; amtool and promtool check the rows that change
 * what they read. A value that can never deploy belongs in config validate (test/config/lint.test.ts), not here.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import {
  addClusterToInventory,
  parseLbEntry,
  removeClusterFromInventory,
  setInventoryValue,
  type LoadedInventory,
  type NewCluster,
} from '../../src/lib/config/index.js'
import {renderFiles, type RenderedFile} from '../../src/lib/gitops/index.js'
import {alertmanagerConfigs, checkRepository, formatFinding, renderedObjects, ruleFiles, upstream, valuesBlocks} from '../support/upstream/index.js'
import {amtoolVersion, forAmtool, tool} from '../support/upstream/tools.js'
import {example, withAlerting} from './inventories.js'

type Step = [path: string, value: string] | {add: NewCluster} | {remove: string}

interface Accepted {
  label: string
  steps: Step[]
  /** also checked with amtool check-config / promtool check rules */
  tools?: ('amtool' | 'promtool')[]
  /** more of what the row is about, on its render */
  also?: {it: string; check: (files: RenderedFile[]) => void}
}

const edge = (name: string, metrics: 'agent' | 'remote-scrape', host: string): Step => ({
  add: {name, role: 'edge', metrics, hosts: [host], cpu: '8', memory: '32Gi'},
})

const ACCEPTED: Accepted[] = [
  {
    label: 'endpoints: every service at a name of its own, with ports and paths; an IP address where no Ingress is rendered',
    steps: [
      [
        'endpoints',
        '{grafana: "https://grafana.ops.example.lab", opensearch: "https://logs.example.lab:9200", opensearch-dashboards: "https://dashboards.example.lab/", thanos-query: "https://query.example.lab:8443", thanos-receive: "https://receive.example.lab", argocd: "https://argocd.example.lab", prometheus: "https://10.0.0.5:9090", alertmanager: "http://[fd00::7]:9093", thanos-compactor: "https://compactor.example.lab"}',
      ],
    ],
  },
  {
    label: 'IPv6 API servers: an agent edge, a remote-scrape edge, an edge added on an IPv6 node',
    steps: [
      ['clusters.cluster-02.apiServer', 'https://[fd00:101::196]:6443'],
      ['clusters.cluster-03.apiServer', 'https://[fd00:101::197]:6443'],
      edge('edge-v6-07', 'agent', 'edge-v6-07.example.lab'),
      // cluster add takes no node name, and a node on an IPv6 address needs one
      ['clusters.edge-v6-07.nodes[0].name', 'edge-v6-07-node-1'],
      ['clusters.edge-v6-07.nodes[0].host', 'fd00:9::7'],
      ['clusters.edge-v6-07.apiServer', 'https://[fd00:9::7]:6443'],
    ],
    also: {
      it: "the remote-scrape edge's Prometheus reaches its API server at [address]:port; Cilium gets the bare address",
      check: (files) => {
        const scrape = renderedObjects(files).filter((o) => o.object.kind === 'ScrapeConfig' && o.object.metadata!.name!.startsWith('edge-cluster-03-'))
        expect(scrape.length).toBeGreaterThan(0)
        for (const {object} of scrape) {
          const spec = object.spec as {kubernetesSDConfigs: {apiServer: string}[]; relabelings: {targetLabel?: string; replacement?: string}[]}
          expect(spec.kubernetesSDConfigs[0]!.apiServer).toBe('https://[fd00:101::197]:6443')
          expect(spec.relabelings.find((r) => r.targetLabel === '__address__')!.replacement).toBe('[fd00:101::197]:6443')
        }
        const cilium = valuesBlocks(files).find((b) => b.chart === 'cilium' && b.file.includes('/cluster-03-edge/'))!
        expect(cilium.values).toMatchObject({k8sServiceHost: 'fd00:101::197', k8sServicePort: 6443})
      },
    },
  },
  {
    label: 'endpoints at IP addresses, IPv4 and IPv6, for every service (obsctl reaches them there: a port-forward, a NodePort, a load balancer of their own)',
    steps: [
      [
        'endpoints',
        '{grafana: "https://192.168.101.210", opensearch: "https://[fd00::10]:9200", opensearch-dashboards: "https://192.168.101.212:5601", thanos-query: "https://[fd00::13]", thanos-receive: "https://192.168.101.214:19291", argocd: "https://127.0.0.1:8443", prometheus: "https://10.0.0.5:9090", alertmanager: "http://[fd00::7]:9093", thanos-compactor: "http://10.0.0.8:10902"}',
      ],
    ],
    also: {
      it: 'the Ingresses keep the default names; the edges send to the addresses',
      check: (files) => {
        const objects = renderedObjects(files).map((o) => o.object)
        const ingressHosts = objects.filter((o) => o.kind === 'Ingress').map((o) => [o.metadata!.name, (o.spec as {rules: {host: string}[]}).rules[0]!.host])
        expect(Object.fromEntries(ingressHosts)).toEqual({
          'argocd-server': 'argocd.k8s-cluster-01.miribit.lab',
          opensearch: 'opensearch.k8s-cluster-01.miribit.lab',
          'opensearch-dashboards': 'opensearch-dashboards.k8s-cluster-01.miribit.lab',
          'thanos-query': 'thanos-query.k8s-cluster-01.miribit.lab',
          'thanos-receive': 'thanos-receive.k8s-cluster-01.miribit.lab',
        })
        const kps = valuesBlocks(files).find((b) => b.chart === 'kube-prometheus-stack' && b.file.includes('-central/'))!
        expect((kps.values.grafana as {ingress: {hosts: string[]}}).ingress.hosts).toEqual(['grafana.k8s-cluster-01.miribit.lab'])
        // Fluent Bit hands its host to getaddrinfo as it is: an IPv6 address without brackets
        const edgeOutput = renderedObjects(files).find((o) => o.file === 'deploy/overlays/edge-agent/fluent-bit/cluster-output.yaml')!.object
        expect((edgeOutput.spec as {opensearch: {host: string; port: number}}).opensearch).toMatchObject({host: 'fd00::10', port: 9200})
        const agent = objects.find((o) => o.kind === 'PrometheusAgent')!
        expect((agent.spec as {remoteWrite: {url: string}[]}).remoteWrite[0]!.url).toBe('https://192.168.101.214:19291/api/v1/receive')
      },
    },
  },
  {
    label: 'endpoints at single-label host names that YAML 1.1 reads as booleans or null (a lab hosts file: on, no, null)',
    steps: [
      [
        'endpoints',
        '{grafana: "https://on", thanos-query: "https://no", argocd: "https://null", opensearch-dashboards: "https://y", thanos-receive: "https://off", opensearch: "https://yes:9200"}',
      ],
    ],
  },
  {
    label: 'LoadBalancer IP pools of every form: IPv4 and IPv6 CIDRs, single addresses of both families, ranges',
    steps: [
      ['clusters.cluster-01.loadBalancerIPs', '["192.168.101.208/30", "fd00:200::/120", "fd00:300::5", "192.168.101.230"]'],
      ['clusters.cluster-03.loadBalancerIPs', '["fd00:400::10-fd00:400::20", "192.168.101.220-192.168.101.224"]'],
    ],
  },
  {
    label: 'an API server by DNS name (the kubeadm port), one on port 443',
    steps: [
      ['clusters.cluster-03.apiServer', 'https://api.cluster-03.example.lab:6443'],
      ['clusters.cluster-04.apiServer', 'https://api.cluster-04.example.lab:443'],
    ],
  },
  {
    label: 'replicas of every component the render scales, above the profile',
    steps: [
      [
        'replicas',
        '{prometheus: 3, alertmanager: 3, thanos-query: 2, thanos-store: 2, thanos-ruler: 2, opensearch-master: 5, opensearch-data: 4, opensearch-dashboards: 2, prometheus-agent: 2, prometheus-edge: 2}',
      ],
    ],
  },
  {
    label: 'replicas at 0 where the platform still deploys',
    steps: [['replicas', '{alertmanager: 0, thanos-ruler: 0, opensearch-dashboards: 0, prometheus-agent: 0}']],
  },
  {
    label: 'retention: compound durations, keep-for-ever 0, years',
    steps: [['retention', '{prometheus: 1d12h, thanos: {raw: "0", 5m: "0", 1h: "0"}, opensearch: {deleteAfter: 3650d}}']],
  },
  {
    label: 'retention at the lower bounds, in weeks and years',
    steps: [['retention', '{prometheus: 2w, thanos: {raw: 40h, 5m: 10d, 1h: 5y}, opensearch: {deleteAfter: 2d}}']],
  },
  {
    label: 'S3: http on an IP address with a port, a region of its own, virtual-host style, dotted bucket names, versioning and expiry',
    steps: [
      ['s3.endpoint', 'http://10.0.0.9:9000'],
      ['s3.region', 'eu_west-9'],
      ['s3.pathStyle', 'false'],
      [
        's3.buckets',
        '{metrics: {name: thanos.metrics.prod, versioning: true, expireAfter: 400d}, snapshots: {name: os-snapshots-prod}, backups: {name: lh.backups.prod, expireAfter: 30d}}',
      ],
    ],
  },
  {label: 'S3 on an IPv6 address', steps: [['s3.endpoint', 'https://[fd00::9]:9000/']]},
  {label: 'volume backups on weekdays, the most kept', steps: [['backup', '{keyEnv: PLATFORM_BACKUP_KEY, volumes: {schedule: "30 2 * * 1-5", retain: 100}}']]},
  {
    label: 'git: a private ssh remote on its own port, a branch with slashes and dots',
    steps: [['git', '{remote: "ssh://git@git.example.lab:2222/platform/gitops.git", branch: "release/2025.1", private: true, sshKeyFile: ./gitops-deploy}']],
  },
  {label: 'git: an scp-like remote', steps: [['git.remote', 'git@git.example.lab:platform/gitops.git']]},
  {
    label: 'a long platform name and domain',
    steps: [
      ['name', 'observability-platform-of-the-operations-team-in-building-b-01'],
      ['domain', 'k8s.operations.department.of.the.company.example.internal'],
    ],
  },
  {
    label: 'versions of OpenSearch and Fluent Bit other than the defaults',
    steps: [
      ['versions.opensearch', '2.18.0'],
      ['versions.fluentBit', '4.0.0'],
    ],
  },
  {
    label: 'alerting: every receiver option, the default receiver, grouping, repeat intervals, routes by severity, cluster and regex matchers',
    steps: [
      [
        'alerting',
        `{receivers: [{name: Ops_Team, email: {to: [a@example.org, b@example.org], from: am@example.org, smarthost: "10.0.0.25:465", authUsername: am, authPasswordEnv: SMTP_PW, requireTls: false}, sendResolved: false}, {name: chat, slack: {webhookUrlEnv: SLACK_URL}, sendResolved: true}, {name: hook, webhook: {urlEnv: HOOK_URL, maxAlerts: 10}}, {name: pd-v1, pagerduty: {serviceKeyEnv: PD_KEY}}], defaultReceiver: chat, groupBy: [alertname, cluster], repeatInterval: 1d, routes: [{receiver: pd-v1, severity: [critical, page-now], continue: true, repeatInterval: 30m}, {receiver: hook, clusters: [cluster-01, cluster-04], matchers: ['alertname =~ "Thanos.*"', 'namespace != "kube-system"']}, {receiver: "null", matchers: ['severity = "info"']}]}`,
      ],
    ],
    tools: ['amtool'],
  },
  {
    label: 'every edge on agent',
    steps: [
      ['clusters.cluster-03.metrics', 'agent'],
      ['clusters.cluster-04.metrics', 'agent'],
    ],
  },
  {label: 'every edge on remote-scrape', steps: [['clusters.cluster-02.metrics', 'remote-scrape']]},
  {
    label: 'the central cluster alone (no edge, no alert route to an edge)',
    steps: [['alerting.routes', '[{receiver: oncall, severity: [critical]}]'], {remove: 'cluster-02'}, {remove: 'cluster-03'}, {remove: 'cluster-04'}],
  },
  {
    label: 'cluster names YAML 1.1 reads as a number or a boolean: an agent edge 123, a remote-scrape edge no',
    steps: [edge('123', 'agent', '10.9.1.23'), edge('no', 'remote-scrape', '10.9.1.24')],
    tools: ['promtool'],
  },
  {
    label: 'long cluster names: a 63-character agent edge, a remote-scrape edge at its longest',
    steps: [
      edge('a'.repeat(55) + '-edge-05', 'agent', '10.9.0.5'),
      edge('edge-with-the-longest-name-scraped-6', 'remote-scrape', '10.9.0.6'),
      ['clusters.edge-with-the-longest-name-scraped-6.id', '"06"'],
    ],
    tools: ['promtool'],
  },
]

const OPTS = {dryRun: true, allowOvercommit: true}

async function build(base: LoadedInventory, steps: Step[]): Promise<LoadedInventory> {
  let inv = base
  for (const s of steps)
    inv = Array.isArray(s)
      ? (await setInventoryValue(inv, s[0], s[1], OPTS)).inventory
      : 'add' in s
        ? (await addClusterToInventory(inv, s.add, OPTS)).inventory
        : (await removeClusterFromInventory(inv, s.remove, OPTS)).inventory
  return inv
}

/** The address ranges of the rendered LoadBalancer IP pools, as Cilium's LB IPAM reads a block (lbipam.go ipRangeFromBlock: a CIDR is its whole network). */
function poolRanges(files: RenderedFile[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const {file, object} of renderedObjects(files)) {
    if (object.kind !== 'CiliumLoadBalancerIPPool') continue
    const blocks = (object.spec?.blocks ?? []) as {cidr?: string; start?: string; stop?: string}[]
    const ranges = blocks.map((b) => parseLbEntry(b.cidr ?? (b.stop ? `${b.start}-${b.stop}` : b.start!)))
    out.set(file.split('/')[2]!.replace(/-(central|edge)$/, ''), ranges.map(rangeText))
  }
  return out
}

const rangeText = (r: ReturnType<typeof parseLbEntry>) => (typeof r === 'string' ? r : `${r.family} ${r.start}-${r.end} (${r.end - r.start + 1n} addresses)`)

interface Rendered {
  inventory: LoadedInventory
  files: RenderedFile[]
  findings: string[]
}

let tmp: string
const accepted = new Map<string, Rendered>()
let started = 0
beforeAll(async () => {
  started = performance.now()
  tmp = mkdtempSync(path.join(tmpdir(), 'obsctl-optional-'))
  // the example with a receiver of every kind (an inventory without one drops every alert: a finding of its own)
  const base = await withAlerting(example())
  for (const v of ACCEPTED) {
    const inventory = await build(base, v.steps)
    const files = renderFiles(inventory.platform)
    accepted.set(v.label, {inventory, files, findings: checkRepository(files).findings.map(formatFinding)})
  }
})
afterAll(() => {
  rmSync(tmp, {recursive: true, force: true})
  console.info(`optional settings: ${ACCEPTED.length} inventories rendered and checked in ${Math.round(performance.now() - started)} ms`)
})

describe.each(ACCEPTED.map((v) => [v.label, v] as const))('accepted: %s', (label, v) => {
  it('renders a repository without a finding against upstream', () => {
    expect(accepted.get(label)!.findings).toEqual([])
  })

  it('its LoadBalancer IP pools hold exactly the addresses the inventory names', () => {
    const {inventory, files} = accepted.get(label)!
    const want = new Map(
      inventory.platform.clusters.filter((c) => c.loadBalancerIPs.length > 0).map((c) => [c.name, c.loadBalancerIPs.map((e) => rangeText(parseLbEntry(e)))]),
    )
    expect(poolRanges(files)).toEqual(want)
  })

  if (v.also) it(v.also.it, () => v.also!.check(accepted.get(label)!.files))

  if (v.tools?.includes('amtool'))
    it('amtool check-config: the Alertmanager configuration the chart renders', async () => {
      const {files} = accepted.get(label)!
      const [am] = alertmanagerConfigs(upstream(), valuesBlocks(files))
      const deployed = String(
        (upstream().charts['kube-prometheus-stack']!.values as {alertmanager: {alertmanagerSpec: {image: {tag: string}}}}).alertmanager.alertmanagerSpec.image
          .tag,
      )
      const f = path.join(tmp, 'alertmanager.yaml')
      writeFileSync(f, stringify(forAmtool(am!.config, await amtoolVersion(), deployed).config))
      const r = await tool('amtool', ['check-config', f])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toMatch(/5 receivers/)
    })

  if (v.tools?.includes('promtool'))
    it('promtool check rules: every rule group', async () => {
      const {files} = accepted.get(label)!
      const rules = ruleFiles(renderedObjects(files), valuesBlocks(files))
      const paths = rules.map((r, i) => {
        const f = path.join(tmp, `rules-${i}.yaml`)
        writeFileSync(f, stringify(r.content))
        return f
      })
      const r = await tool('promtool', ['check', 'rules', ...paths])
      expect(r.code, r.out).toBe(0)
    })
})
