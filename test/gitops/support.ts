/** Inventories for the render tests: the 4-cluster example lab and generated fleets. */
import {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml, type InitAnswers, type InitCluster} from '../../src/lib/config/index.js'
import type {Platform} from '../../src/lib/config/schema.js'

export function inventoryText(a: InitAnswers = EXAMPLE_ANSWERS): string {
  return renderInventoryYaml(a)
}

export function platformOf(a: InitAnswers = EXAMPLE_ANSWERS): Platform {
  return parseInventory(renderInventoryYaml(a), '/virtual/obsctl.yaml').platform
}

/** A fleet of n clusters: one central, edges alternating agent / remote-scrape. */
export function fleetAnswers(n: number, overrides: Partial<InitAnswers> = {}): InitAnswers {
  const clusters: InitCluster[] = []
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(2, '0')
    const third = 100 + Math.floor(i / 50)
    const last = (i % 50) * 5
    clusters.push({
      name: `cluster-${id}`,
      id,
      role: i === 1 ? 'central' : 'edge',
      metrics: i === 1 ? undefined : i % 2 === 0 ? 'agent' : 'remote-scrape',
      hosts: i === 1 ? ['10.1.0.1', '10.1.0.2', '10.1.0.3'] : [`10.${third}.${i % 250}.10`],
      cpu: '16',
      memory: '64Gi',
      loadBalancerIPs: [`172.${third}.${i % 250}.${last}-172.${third}.${i % 250}.${last + 4}`],
    })
  }
  return {...EXAMPLE_ANSWERS, clusters, ...overrides}
}

export function withoutCluster(a: InitAnswers, name: string): InitAnswers {
  return {...a, clusters: a.clusters.filter((c) => c.name !== name)}
}
