/** install-k8s.sh rendering: shellcheck on every variant, values quoted, kubeadm configs. */
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, test} from 'vitest'
import {parse} from 'yaml'
import {parseInventory} from '../../src/lib/config/load.js'
import type {Platform} from '../../src/lib/config/schema.js'
import {evaluateNode, type NodeFacts, type SudoProbe} from '../../src/lib/nodes/preflight.js'
import {kubeadmInitConfig, kubeadmJoinConfig, packageBase, parseJoinCommand, renderInstallScript} from '../../src/lib/nodes/script.js'

const INVENTORY = `apiVersion: obsctl.dev/v1alpha1
kind: Platform
domain: miribit.lab
ssh:
  user: bsh
  sudo: password
  proxy: {http: "http://proxy.lab:3128", noProxy: "10.0.0.0/8,.miribit.lab"}
  aptMirror: https://mirror.lab/k8s/
versions: {kubernetes: "1.33.4"}
s3: {endpoint: https://s3.minio.miribit.lab, buckets: {}}
git: {remote: https://git.lab/platform.git}
clusters:
  - name: cluster-01
    id: "01"
    role: central
    apiServer: https://192.168.101.194:6443
    apiServerSans: [api.k8s-cluster-01.miribit.lab]
    loadBalancerIPs: [192.168.101.210-192.168.101.219, 192.168.101.224/28]
    podCidr: 10.10.0.0/16
    nodes:
      - {host: 192.168.101.194, cpu: 4, memory: 16Gi}
      - {host: 192.168.101.195, roles: [control-plane], cpu: 4, memory: 16Gi}
      - {host: 192.168.101.199, name: worker-3, roles: [worker], cpu: 4, memory: 16Gi}
  - name: cluster-02
    id: "02"
    role: edge
    apiServer: https://192.168.101.196:6443
    nodes:
      - {host: 192.168.101.196, cpu: 4, memory: 16Gi}
`

function platform(): Platform {
  const p = parseInventory(INVENTORY, 'obsctl.yaml').platform
  // config validate refuses such a name (DNS-1123); the script quotes every value all the same
  p.clusters[0]!.nodes[2]!.name = "it's-quoted"
  return p
}

describe('install-k8s.sh', () => {
  const p = platform()
  const c1 = p.clusters[0]!
  const variants = {
    init: renderInstallScript(p, c1, c1.nodes[0]!),
    'join-control-plane': renderInstallScript(p, c1, c1.nodes[1]!, {joinConfigPath: '/home/bsh/.obsctl/kubeadm-join.yaml'}),
    join: renderInstallScript(p, c1, c1.nodes[2]!, {joinConfigPath: '/home/bsh/.obsctl/kubeadm-join.yaml'}),
    'single-node edge': renderInstallScript(p, p.clusters[1]!, p.clusters[1]!.nodes[0]!),
  }

  test.each(Object.entries(variants))('%s passes shellcheck', (_name, script) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'obsctl-sc-'))
    const f = path.join(dir, 'install-k8s.sh')
    writeFileSync(f, script)
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', f], {encoding: 'utf8'})
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
    // and bash parses it
    execFileSync('bash', ['-n', f])
  })

  test('inventory values are rendered as quoted shell words; no placeholder is left', () => {
    const s = variants.join
    expect(s).not.toMatch(/\{\{[A-Z_]+\}\}/)
    expect(s).toContain(`NODE_NAME='it'\\''s-quoted'`)
    expect(s).toContain("MODE='join'")
    expect(s).toContain("K8S_VERSION='1.33.4'")
    expect(s).toContain("PKG_BASE='https://mirror.lab/k8s/core:/stable:/v1.33'")
    expect(s).toContain("PROXY_HTTP='http://proxy.lab:3128'")
    expect(s).toContain("PROXY_HTTPS='http://proxy.lab:3128'")
    expect(s).toContain("PROXY_NO='10.0.0.0/8,.miribit.lab'")
    expect(s).toContain("JOIN_CONFIG='/home/bsh/.obsctl/kubeadm-join.yaml'")
    // the LB pool is the GitOps repository's: the script has no pool to apply
    expect(variants.init).not.toContain('LB_IPS')
    expect(variants.init).not.toMatch(/CiliumLoadBalancerIPPool|kubectl apply/)
    expect(variants.init).toContain("UNTAINT='1'")
    expect(variants['join-control-plane']).toContain("UNTAINT='0'")
    expect(packageBase({...p, ssh: {...p.ssh, aptMirror: undefined}}, c1)).toBe('https://pkgs.k8s.io/core:/stable:/v1.33')
    // a cluster upgraded ahead of the others (clusters[].kubernetes): its new nodes get its version
    const ahead = {...c1, kubernetes: '1.34.2'}
    expect(packageBase({...p, ssh: {...p.ssh, aptMirror: undefined}}, ahead)).toBe('https://pkgs.k8s.io/core:/stable:/v1.34')
    const s2 = renderInstallScript(p, ahead, ahead.nodes[0]!)
    expect(s2).toContain("K8S_VERSION='1.34.2'")
    expect(s2).toContain("K8S_MINOR='1.34'")
  })

  test('kubeadm init config: CIDRs, endpoint, SANs, kube-proxy skipped (Cilium replaces it)', () => {
    const y = kubeadmInitConfig(p, c1)
    expect(y).toContain('apiVersion: kubeadm.k8s.io/v1beta4')
    expect(y).toContain('podSubnet: 10.10.0.0/16')
    expect(y).toContain('serviceSubnet: 10.96.0.0/12')
    expect(y).toContain('controlPlaneEndpoint: 192.168.101.194:6443')
    for (const san of ['api.k8s-cluster-01.miribit.lab', '192.168.101.194', '192.168.101.195']) expect(y).toContain(`- ${san}`)
    expect(y).toContain('- addon/kube-proxy')
    expect(y).toContain('name: 192.168.101.194')
  })

  test('kubeadm init config of an IPv6 API server: the endpoint bracketed beside its port, the SAN bare (kubeadm ValidateCertSANs takes an IP, never [IP])', () => {
    const v6 = {...c1, apiServer: 'https://[fd00:101::194]:6443'}
    const [, cluster] = kubeadmInitConfig(p, v6)
      .split('\n---\n')
      .map((d) => parse(d) as {controlPlaneEndpoint?: string; apiServer?: {certSANs: string[]}})
    expect(cluster!.controlPlaneEndpoint).toBe('[fd00:101::194]:6443')
    expect(cluster!.apiServer!.certSANs[0]).toBe('fd00:101::194')
    expect(cluster!.apiServer!.certSANs.filter((s) => s.includes('['))).toEqual([])
  })

  test('join command parsed into a JoinConfiguration (control planes get the certificate key)', () => {
    const j = parseJoinCommand('kubeadm join 192.168.101.194:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234 \n')
    expect(j).toEqual({endpoint: '192.168.101.194:6443', token: 'abcdef.0123456789abcdef', caCertHash: 'sha256:1234'})
    const w = kubeadmJoinConfig(p, c1, c1.nodes[2]!, j)
    expect(w).toContain('kind: JoinConfiguration')
    expect(w).toContain('apiServerEndpoint: 192.168.101.194:6443')
    expect(w).not.toContain('controlPlane')
    const cp = kubeadmJoinConfig(p, c1, c1.nodes[1]!, {...j, certificateKey: 'f'.repeat(64)})
    expect(cp).toContain(`certificateKey: ${'f'.repeat(64)}`)
    expect(cp).toContain('advertiseAddress: 192.168.101.195')
    expect(() => parseJoinCommand('garbage')).toThrow()
  })
})

describe('preflight evaluation', () => {
  const p = platform()
  const c = p.clusters[0]!
  const facts: NodeFacts = {
    arch: 'x86_64',
    osId: 'ubuntu',
    osLike: 'debian',
    osName: 'Ubuntu 24.04 LTS',
    cpus: 4,
    memBytes: 16 * 1024 ** 3 - 300 * 1024 ** 2,
    diskFreeBytes: 80 * 1024 ** 3,
    swapDevices: 0,
    listening: ['0.0.0.0:22'],
    kubeletConf: false,
    hostname: 'n1',
    skewMs: 120,
  }
  const ok: SudoProbe = {ok: true, detail: 'sudo (password)', leftovers: []}
  const byId = (f: Partial<NodeFacts>, sudo: SudoProbe = ok, node = c.nodes[0]!) =>
    Object.fromEntries(evaluateNode(p, c, node, {...facts, ...f}, sudo).map((r) => [r.id, r]))

  test('a good node passes everything', () => {
    expect(Object.values(byId({})).map((r) => `${r.id}:${r.status}`)).toEqual([
      'os:pass',
      'cpu:pass',
      'memory:pass',
      'disk:pass',
      'swap:pass',
      'port-6443:pass',
      'port-10250:pass',
      'clock:pass',
      'sudo:pass',
      'leftovers:pass',
    ])
  })

  test('failures and warnings say why and what to do', () => {
    const r = byId(
      {
        osId: 'alpine',
        osLike: '',
        arch: 'riscv64',
        cpus: 2,
        memBytes: 8 * 1024 ** 3,
        diskFreeBytes: 5 * 1024 ** 3,
        swapDevices: 1,
        listening: ['0.0.0.0:6443'],
        skewMs: 45_000,
      },
      {ok: false, detail: 'sudo: a password is required'},
    )
    expect(r.os!.status).toBe('fail')
    expect(r.cpu!.status).toBe('fail')
    expect(r.cpu!.detail).toContain('declared 4')
    expect(r.memory!.status).toBe('fail')
    expect(r.disk!.status).toBe('fail')
    expect(r.swap!.status).toBe('warn')
    expect(r['port-6443']!.status).toBe('fail')
    expect(r.clock!.status).toBe('fail')
    expect(r.sudo!.status).toBe('fail')
    expect(r.sudo!.hint).toContain('OBSCTL_SUDO_PASSWORD')
    // what interrupted runs left cannot be looked for without root: said so, never a pass
    expect(r.leftovers).toMatchObject({status: 'fail', detail: expect.stringContaining('sudo failed')})
    // a port held by our own Kubernetes is fine
    expect(byId({listening: ['0.0.0.0:6443', '0.0.0.0:10250'], kubeletConf: true})['port-6443']!.detail).toContain('already ours')
  })

  test("the API server's port is the one checked: the port the install binds (apiServer's), not always 6443", () => {
    const c7443 = {...c, apiServer: c.apiServer.replace(/:\d+$/, ':7443')}
    const r = Object.fromEntries(evaluateNode(p, c7443, c7443.nodes[0]!, {...facts, listening: ['0.0.0.0:7443']}, ok).map((x) => [x.id, x]))
    expect(r['port-7443']).toMatchObject({status: 'fail', title: 'Port 7443', hint: "find it with: ss -ltnp 'sport = :7443'"})
    expect(r['port-6443']).toBeUndefined()
  })

  test('what interrupted runs left is a warning naming each path and the command that removes it', () => {
    const leftovers = [
      {path: '/var/lib/obsctl/backup/20261202T115300Z-3f9a1c', run: 'run-1', since: '2026-12-02T11:53:04Z'},
      {path: '/home/ops/.obsctl/.obsctl-upload-812.4411-0123456789abcdef-install-k8s.sh', since: '2026-12-01T10:00:00Z'},
    ]
    const first = byId({}, {...ok, leftovers}).leftovers!
    expect(first).toMatchObject({status: 'warn', title: 'Leftovers of obsctl runs'})
    expect(first.detail).toBe(
      '2 left by interrupted runs: /var/lib/obsctl/backup/20261202T115300Z-3f9a1c (run run-1, since 2026-12-02T11:53:04Z), /home/ops/.obsctl/.obsctl-upload-812.4411-0123456789abcdef-install-k8s.sh (since 2026-12-01T10:00:00Z)',
    )
    expect(first.hint).toBe(`the next obsctl backup create --cluster ${c.name} (or backup restore --cluster ${c.name}) removes them`)
    // on another node no backup runs: node install removes the login user's files, the rest is by hand
    const other = byId({}, {...ok, leftovers}, c.nodes[1]!).leftovers!
    expect(other.status).toBe('warn')
    expect(other.hint).toBe(
      `obsctl node install ${c.name} --host ${c.nodes[1]!.host} --restart removes the ones in the login user's home (it reruns the install on this node alone; each step checks before it acts); remove the others by hand (no obsctl run there does): sudo rm -rf /var/lib/obsctl/backup/20261202T115300Z-3f9a1c`,
    )
  })
})
