#!/usr/bin/env node
// Benchmark: render a 100-cluster inventory into a temp dir (first render, then an idempotent
// re-render). Reports the CPU time (user + system, process.cpuUsage) of a first render (median of 5).
// Budget (DESIGN.md §6): under 1 s of CPU. Run after `npm run build`: node bench/render.bench.js
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const dist = new URL('../dist/', import.meta.url)
const {EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml} = await import(new URL('lib/config/index.js', dist).href)
const {renderRepo} = await import(new URL('lib/gitops/index.js', dist).href)

function fleet(n) {
  const clusters = []
  for (let i = 1; i <= n; i++) {
    const id = String(i).padStart(3, '0')
    const a = 100 + Math.floor(i / 200)
    clusters.push({
      name: `cluster-${id}`,
      id,
      role: i === 1 ? 'central' : 'edge',
      metrics: i === 1 ? undefined : i % 2 === 0 ? 'agent' : 'remote-scrape',
      hosts: i === 1 ? ['10.0.0.1', '10.0.0.2', '10.0.0.3'] : [`10.${a}.${i % 200}.10`],
      cpu: '16',
      memory: '64Gi',
      loadBalancerIPs: [`172.16.${i % 250}.10-172.16.${i % 250}.14`],
    })
  }
  return {...EXAMPLE_ANSWERS, clusters}
}

const CLUSTERS = 100
const platform = parseInventory(renderInventoryYaml(fleet(CLUSTERS)), '/bench/obsctl.yaml').platform
const dir = mkdtempSync(path.join(tmpdir(), 'obsctl-render-bench-'))
try {
  // the median of 5 first renders into fresh folders (this machine's CPU is shared: single runs vary 2x)
  const samples = []
  let first
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage()
    first = await renderRepo(platform, {dir: path.join(dir, `repo-${i}`)})
    const c1 = process.cpuUsage(c0)
    samples.push((c1.user + c1.system) / 1000)
  }
  const second = await renderRepo(platform, {dir: path.join(dir, 'repo-0')})
  if (!second.noChanges) throw new Error('re-render was not idempotent')
  const cpuMs = samples.sort((a, b) => a - b)[2]
  process.stderr.write(`rendered ${first.added.length} files for ${CLUSTERS} clusters (CPU ms of 5 runs: ${samples.map((x) => Math.round(x)).join(', ')})\n`)
  process.stdout.write(`${JSON.stringify({name: 'render-100-clusters', metric: 'cpu_time', value: Math.round(cpuMs * 10) / 10, unit: 'ms', files: first.added.length, budget_ms: 1000})}\n`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}
