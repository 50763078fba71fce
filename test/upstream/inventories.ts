/**
 * The inventories whose rendered repositories are checked against upstream: the example
 * (`obsctl init --example`) in both profiles, and a 25-cluster fleet grown from it through the
 * project's own editing API (config set / cluster add, in dry-run: nothing is written).
 */
import {
  addClusterToInventory,
  EXAMPLE_ANSWERS,
  parseInventory,
  renderInventoryYaml,
  setInventoryValue,
  type LoadedInventory,
} from '../../src/lib/config/index.js'
import {renderFiles, type RenderedFile} from '../../src/lib/gitops/index.js'

export interface CheckedInventory {
  label: string
  inventory: LoadedInventory
  files: RenderedFile[]
}

const VIRTUAL = '/virtual/obsctl.yaml'

export const example = (): LoadedInventory => parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), VIRTUAL)

async function withProfile(inv: LoadedInventory, profile: 'lab' | 'production'): Promise<LoadedInventory> {
  if (inv.platform.profile === profile) return inv
  return (await setInventoryValue(inv, 'profile', profile, {dryRun: true, allowOvercommit: true})).inventory
}

/** The example plus edges up to `n` clusters, alternating agent and remote-scrape. */
export async function fleet(n: number): Promise<LoadedInventory> {
  let inv = example()
  for (let i = inv.platform.clusters.length + 1; i <= n; i++) {
    const id = String(i).padStart(2, '0')
    inv = (
      await addClusterToInventory(
        inv,
        {
          name: `cluster-${id}`,
          role: 'edge',
          metrics: i % 2 === 0 ? 'agent' : 'remote-scrape',
          hosts: [`10.20.${i}.10`],
          cpu: '8',
          memory: '32Gi',
        },
        {dryRun: true, allowOvercommit: true},
      )
    ).inventory
    // `cluster add` takes no LB range: set it as `config set` would, so every cluster renders its Cilium pool
    inv = (await setInventoryValue(inv, `clusters.cluster-${id}.loadBalancerIPs`, `["10.20.${i}.200-10.20.${i}.204"]`, {dryRun: true, allowOvercommit: true}))
      .inventory
  }
  return inv
}

/**
 * Issue 12 item 12 adds `alerting` to the inventory: once the schema has it, the checked inventories
 * get a receiver of every kind and routes by severity, cluster and matcher, so amtool checks how each
 * notifier is rendered (field names as in src/lib/config/alerting.ts on branch h-alerting).
 */
const ALERTING = `{receivers: [
  {name: ops-email, email: {to: [ops@example.org], from: alertmanager@example.org, smarthost: "smtp.example.org:587", authUsername: alertmanager, authPasswordEnv: SMTP_PASSWORD}},
  {name: ops-slack, slack: {webhookUrlEnv: SLACK_WEBHOOK_URL, channel: "#alerts"}},
  {name: ops-webhook, webhook: {urlEnv: ALERT_WEBHOOK_URL}},
  {name: oncall, pagerduty: {routingKeyEnv: PAGERDUTY_ROUTING_KEY}}],
 defaultReceiver: ops-email,
 routes: [
  {receiver: oncall, severity: [critical]},
  {receiver: ops-slack, clusters: [cluster-02, cluster-03]},
  {receiver: ops-webhook, matchers: ['namespace = "logging"']}]}`

export async function withAlerting(inv: LoadedInventory): Promise<LoadedInventory> {
  if (!('alerting' in inv.platform)) return inv // the schema has no alerting section yet
  return (await setInventoryValue(inv, 'alerting', ALERTING, {dryRun: true, allowOvercommit: true})).inventory
}

export const INVENTORY_LABELS = ['example, profile lab', 'example, profile production', '25 clusters (agent and remote-scrape edges)'] as const

export async function inventories(): Promise<CheckedInventory[]> {
  const out: CheckedInventory[] = []
  for (const profile of ['lab', 'production'] as const) {
    const inventory = await withAlerting(await withProfile(example(), profile))
    out.push({label: INVENTORY_LABELS[profile === 'lab' ? 0 : 1], inventory, files: renderFiles(inventory.platform)})
  }
  const big = await withAlerting(await fleet(25))
  out.push({label: INVENTORY_LABELS[2], inventory: big, files: renderFiles(big.platform)})
  return out
}
