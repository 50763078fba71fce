/** certs check reads the admin client certificate where kubectl would: the first $KUBECONFIG file that names the user. */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseInventory} from '../../src/lib/config/load.js'
import {kubeUserName} from '../../src/lib/config/model.js'
import {EXAMPLE_ANSWERS, renderInventoryYaml} from '../../src/lib/config/write.js'
import {ensurePlatformCa, issueServerCertificate} from '../../src/lib/kube/pki.js'
import {chainFileFor} from '../../src/lib/kube/kubeconfig/chain.js'
import {kubeconfigCert} from '../../src/lib/lifecycle/certs-read.js'
import {tmpDir} from '../cli/helpers.js'

describe('certs check with several kubeconfig files', () => {
  it('reads the user from the first file that names it; none does: says it is missing from the file new entries go to', async () => {
    const dir = tmpDir()
    const c = parseInventory(renderInventoryYaml(EXAMPLE_ANSWERS), 'obsctl.yaml').platform.clusters[1]!
    const user = kubeUserName(c)
    const ca = await ensurePlatformCa(dir, 'lab.test')
    const leaf = await issueServerCertificate(ca, {commonName: user, hosts: ['x.lab.test']})
    const [a, b, missing] = ['a.yaml', 'b.yaml', 'none.yaml'].map((f) => path.join(dir, f)) as [string, string, string]
    writeFileSync(a, 'apiVersion: v1\nkind: Config\nusers:\n  - name: someone-else\n    user: {token: x}\n')
    writeFileSync(
      b,
      `apiVersion: v1\nkind: Config\nusers:\n  - name: ${user}\n    user:\n      client-certificate-data: ${Buffer.from(leaf.certPem).toString('base64')}\n`,
    )
    const got = kubeconfigCert(chainFileFor([missing, a, b], 'users', user), c)
    expect(got.error).toBeUndefined()
    expect(got.file).toBe(b)
    expect(got.cert?.daysLeft).toBeGreaterThan(800)
    const none = kubeconfigCert(chainFileFor([missing, a], 'users', user), c)
    expect(none.file).toBe(a)
    expect(none.error).toContain(`no user ${user} in ${a}`)
  })
})
