/**
 * The inventories whose rendered repositories are checked against upstream: the example
 * (`obsctl init --example`) in both profiles, and a 25-cluster fleet grown from it through the
 * project's own editing API (config set / cluster add, in dry-run: nothing is written).
 */
import {addClusterToInventory, EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml, setInventoryValue, type LoadedInventory} from '../../src/lib/config/index.js'
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
    inv = (await addClusterToInventory(inv, {
      name: `cluster-${id}`,
      role: 'edge',
      metrics: i % 2 === 0 ? 'agent' : 'remote-scrape',
      hosts: [`10.20.${i}.10`],
      cpu: '8',
      memory: '32Gi',
    }, {dryRun: true, allowOvercommit: true})).inventory
  }
  return inv
}

export const INVENTORY_LABELS = ['example, profile lab', 'example, profile production', '25 clusters (agent and remote-scrape edges)'] as const

export async function inventories(): Promise<CheckedInventory[]> {
  const out: CheckedInventory[] = []
  for (const profile of ['lab', 'production'] as const) {
    const inventory = await withProfile(example(), profile)
    out.push({label: INVENTORY_LABELS[profile === 'lab' ? 0 : 1], inventory, files: renderFiles(inventory.platform)})
  }
  const big = await fleet(25)
  out.push({label: INVENTORY_LABELS[2], inventory: big, files: renderFiles(big.platform)})
  return out
}
