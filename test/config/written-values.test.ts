/**
 * What `obsctl init` writes from the wizard's answers, and `cluster add` from its flags, reads back as the values
 * given: init prints the inventory as text (to keep its comments), so an answer that YAML would read as something else
 * — a key path with " #" (a comment), a cluster named 123 (a number) or null — is quoted; and an IPv6 first host makes
 * the API server URL https://[ADDR]:6443 (without brackets it is no URL, and cluster add refused its own default).
 */
import {describe, expect, it} from 'vitest'
import {addClusterToInventory, EXAMPLE_ANSWERS, parseInventory, renderInventoryYaml, type InitAnswers} from '../../src/lib/config/index.js'
import {rejection} from '../support/errors.js'

const FILE = '/virtual/obsctl.yaml'

describe('init: the answers as written read back as given', () => {
  it('a key path with " #", a local remote with a space, clusters named 123 and null, an IPv6 host', () => {
    const a: InitAnswers = {
      ...EXAMPLE_ANSWERS,
      sshUser: 'null',
      identityFile: '/home/ops/.ssh/id_ed25519 #work',
      gitRemote: './repos/gitops #1.git',
      clusters: [
        {...EXAMPLE_ANSWERS.clusters[0]!, name: '123'},
        {...EXAMPLE_ANSWERS.clusters[1]!, name: 'null', hosts: ['fd00::196']},
      ],
    }
    const p = parseInventory(renderInventoryYaml(a), FILE).platform
    expect(p.ssh.user).toBe('null')
    expect(p.ssh.identityFile).toBe('/home/ops/.ssh/id_ed25519 #work')
    expect(p.git.remote).toBe('./repos/gitops #1.git')
    expect(p.clusters.map((c) => c.name)).toEqual(['123', 'null'])
    expect(p.clusters[1]!.nodes[0]!.host).toBe('fd00::196')
    expect(p.clusters[1]!.apiServer).toBe('https://[fd00::196]:6443')
  })

  it('the example is written as before (plain names, no quotes added)', () => {
    const text = renderInventoryYaml(EXAMPLE_ANSWERS)
    expect(text).toContain('  - name: cluster-01\n')
    expect(text).toContain('  user: bsh\n')
    expect(text).toContain('  remote: https://git.miribit.lab/platform/thanos-multi-cluster.git\n')
    expect(text).toContain('    apiServer: https://192.168.101.194:6443\n')
  })
})

describe('cluster add: the default API server of an IPv6 host', () => {
  it('is https://[ADDR]:6443: the edit is refused for the node name alone (kubeadm takes no IPv6 address as one)', async () => {
    const inv = parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), FILE)
    const e = await rejection(
      addClusterToInventory(inv, {name: 'cluster-05', role: 'edge', hosts: ['fd00::199'], cpu: '4', memory: '16Gi'}, {dryRun: true, allowOvercommit: true}),
    )
    expect(e.message).toMatch(/clusters\[4\]\.nodes\[0\]\.host: node fd00::199 has no name/)
    expect(e.message).not.toMatch(/apiServer/)
  })
})
