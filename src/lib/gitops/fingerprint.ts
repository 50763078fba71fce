/** What makes the render phase run again: the inventory fields that reach a template, and the templates. */
import type {Platform} from '../config/schema.js'
import {gitDir} from '../config/model.js'
import {sha256} from '../hash.js'
import {templatesDigest} from './templates.js'

/** The inventory without what no template reads (SSH access, env var names of credentials). */
export function renderInputs(p: Platform): unknown {
  const {ssh: _ssh, s3, ...rest} = p
  const {accessKeyEnv: _a, secretKeyEnv: _s, caFile: _c, ...s3r} = s3
  return {
    ...rest,
    s3: s3r,
    clusters: p.clusters.map((c) => ({
      name: c.name,
      id: c.id,
      role: c.role,
      metrics: c.metrics,
      apiServer: c.apiServer,
      loadBalancerIPs: c.loadBalancerIPs,
      nodes: c.nodes.length,
    })),
  }
}

export function renderFingerprint(p: Platform): string {
  return sha256(`${JSON.stringify(renderInputs(p))}\0${templatesDigest()}`)
}

/** Where render writes: --out, else the inventory's git.dir beside the inventory. */
export function renderDir(p: Platform, inventoryDir: string, out?: string): string {
  return out ? (out.startsWith('/') ? out : `${process.cwd()}/${out}`) : gitDir(p, inventoryDir)
}
