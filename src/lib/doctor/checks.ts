/**
 * `obsctl doctor`'s checks (like `flux check --pre`), in the one check model (src/lib/checks/): this
 * workstation (./workstation.ts), the credentials the inventory names, DNS of every endpoint, and with
 * --network TCP reachability and clock skew (./network.ts). Each check says which bootstrap phases need
 * it, so `bootstrap` runs only the part its phases depend on.
 */
import net from 'node:net'
import path from 'node:path'
import type {LoadedInventory} from '../config/load.js'
import {kubeContextName} from '../config/model.js'
import type {ContextServer} from '../kube/kubeconfig/chain.js'
import {apiServerClockCheck, clockCheck, dnsCheck, inventoryEndpoints, kubeconfigCheck, tcpCheck, type Endpoint} from './network.js'
import type {DoctorCheck} from './types.js'
import {envCheck, gitCheck, namedEnvVars, nodeCheck, sshCheck} from './workstation.js'

export type {DoctorCheck, DoctorContext, DoctorTier} from './types.js'
export {inventoryEndpoints, tcpProbe, type Endpoint} from './network.js'
export {namedEnvVars} from './workstation.js'

/** `kubeconfig`: --kubeconfig (else $KUBECONFIG, else ~/.kube/config), read only when the network checks run. */
export function doctorChecks(inv: LoadedInventory, o: {kubeconfig?: string} = {}): DoctorCheck[] {
  const checks: DoctorCheck[] = [nodeCheck, gitCheck, sshCheck, ...namedEnvVars(inv).map(envCheck)]
  const endpoints = inventoryEndpoints(inv)
  const byHost = new Map<string, Endpoint[]>()
  for (const e of endpoints) byHost.set(e.host, [...(byHost.get(e.host) ?? []), e])
  // an address needs no lookup
  for (const [host, users] of byHost) if (!net.isIP(host)) checks.push(dnsCheck(host, users))
  const byAddr = new Map<string, (Endpoint & {port: number})[]>()
  for (const e of endpoints) if (e.port) byAddr.set(`${e.host}:${e.port}`, [...(byAddr.get(`${e.host}:${e.port}`) ?? []), e as Endpoint & {port: number}])
  for (const users of byAddr.values()) checks.push(tcpCheck(users[0]!, users))
  const s3 = endpoints.find((e) => e.what === 'S3 endpoint')
  if (s3?.url) checks.push(clockCheck(s3 as Endpoint & {url: string}, inv.platform.s3.caFile ? path.resolve(inv.dir, inv.platform.s3.caFile) : undefined))
  checks.push(kubeconfigCheck(o.kubeconfig))
  // the kubeconfig chain, read once per run by the first API server clock check that runs
  let lookup: Promise<(context: string) => ContextServer | undefined> | undefined
  const serverOf = async (context: string) => {
    lookup ??= Promise.all([import('../kube/kubeconfig/chain.js'), import('../platform/kube.js')]).then(([k, {kubeconfigFiles}]) => {
      // none of the files there yet: no context (a warning); what else is wrong is the kubeconfig check's finding
      const chain = k.readChain(kubeconfigFiles(o.kubeconfig))
      return (ctx: string) => k.contextServer(chain, ctx)
    })
    return (await lookup)(context)
  }
  for (const c of inv.platform.clusters) {
    const context = kubeContextName(c)
    checks.push(apiServerClockCheck(c.name, context, () => serverOf(context)))
  }
  return checks
}
