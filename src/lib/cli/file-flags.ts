/**
 * The flags that name a file on this workstation, checked as soon as the inventory is loaded (BaseCommand.loadInventory)
 * — before a dry run plans or anything connects: a CA bundle (`--ca-file`, `--opensearch-ca-file`, resolved from the
 * working directory as their readers resolve them) must be a readable PEM bundle, and `--known-hosts` (also from the working
 * directory, as the SSH pool resolves it: ../config/files.ts knownHostsPath) a known_hosts file or a new one in an existing folder. Before,
 * a dry run took any of them, `certs check` wrote its report with a folder as known_hosts, and a service command sent
 * its requests with a YAML file as the CA bundle. The checks are the inventory's (../config/files.ts), so a flag and
 * the field it overrides (s3.caFile, ssh.knownHosts) are judged alike.
 */
import path from 'node:path'
import {inputError} from '../errors.js'
import {caProblem, knownHostsPath, knownHostsProblem} from '../config/files.js'

const CA_FLAGS = ['ca-file', 'opensearch-ca-file'] as const

export function refuseBadFileFlags(flags: Record<string, unknown> | undefined, inventoryDir: string): void {
  if (!flags) return
  for (const name of CA_FLAGS) {
    const v = flags[name]
    if (typeof v !== 'string' || v === '') continue
    // what the bundle's readers ask of it (a certificate block); they pass it to TLS, which judges the certificates
    const p = caProblem(path.resolve(v), {parse: false})
    if (p) throw inputError(`--${name}: ${p.message}`, [`--${name} PATH: ${p.fix}`], 'CA_FILE')
  }
  const kh = flags['known-hosts']
  if (typeof kh === 'string' && kh !== '') {
    const p = knownHostsProblem(knownHostsPath(inventoryDir, undefined, kh))
    if (p) throw inputError(`--known-hosts: ${p.message}`, [`--known-hosts PATH: ${p.fix}`], 'KNOWN_HOSTS_FILE')
  }
}
