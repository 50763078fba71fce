/** Where the values the Scrubber (./scrub.ts) replaces come from: env vars, the kubeconfig, each cluster's Secrets. */
import {existsSync, readFileSync} from 'node:fs'
import {yaml} from '../lazy-deps.js'
import type {LoadedInventory} from '../config/load.js'
import type {Kube, KubeObject} from '../platform/kube.js'
import {PUBLIC_KEYS, type Scrubber} from './scrub.js'

/** Env vars whose values are secrets: the ones the inventory and obsctl name, and any OBSCTL_* credential. */
export async function secretEnvNames(inv: LoadedInventory): Promise<string[]> {
  const p = inv.platform
  const {PASSWORD_ENV} = await import('../config/passwords.js')
  const {receiverSecrets} = await import('../config/alerting.js')
  const {CREDENTIAL_ENV, ARGOCD_PASSWORD_ENV} = await import('../platform/catalogue.js')
  const named = [
    p.s3.accessKeyEnv,
    p.s3.secretKeyEnv,
    ...Object.values(PASSWORD_ENV),
    CREDENTIAL_ENV.password,
    ARGOCD_PASSWORD_ENV,
    ...receiverSecrets(p.alerting).map((r) => r.env),
  ]
  const generic = Object.keys(process.env).filter((k) => /^OBSCTL_.*(PASSWORD|SECRET|TOKEN|KEY)/.test(k) && !/_FILE$/.test(k))
  return [...new Set([...named, ...generic])]
}

/** Credentials in the kubeconfig (tokens, passwords, client keys). */
export function kubeconfigSecrets(file: string | undefined, scrub: Scrubber): void {
  if (!file || !existsSync(file)) return
  try {
    const doc = yaml().parse(readFileSync(file, 'utf8')) as {users?: {user?: Record<string, unknown>}[]} | null
    for (const u of doc?.users ?? []) {
      const user = u.user ?? {}
      for (const k of ['token', 'password', 'client-key-data']) {
        const v = user[k]
        if (typeof v !== 'string') continue
        scrub.add(v)
        if (k === 'client-key-data') scrub.add(Buffer.from(v, 'base64').toString('utf8'))
      }
      const authProvider = user['auth-provider'] as {config?: Record<string, string>} | undefined
      for (const v of Object.values(authProvider?.config ?? {})) scrub.add(v)
    }
  } catch {
    // an unreadable kubeconfig gives no values; the token patterns still apply
  }
}

/**
 * Every value of the Secrets obsctl manages on a cluster, Argo CD's cluster Secrets and the edge token Secrets; and
 * the secret half of kubeadm's bootstrap tokens (kube-system `bootstrap-token-<id>`, type bootstrap.kubernetes.io/token),
 * which a join command in a log or an event quotes as `<id>.<secret>`.
 */
export async function clusterSecretValues(kube: Kube, scrub: Scrubber): Promise<void> {
  const {MANAGER, SCRAPE} = await import('../argocd/register.js')
  const seen = new Map<string, KubeObject & {data?: Record<string, string>}>()
  for (const labelSelector of [
    'app.kubernetes.io/managed-by=obsctl',
    'argocd.argoproj.io/secret-type=cluster',
    'argocd.argoproj.io/secret-type=repository',
    'argocd.argoproj.io/secret-type=repo-creds',
  ]) {
    for (const s of await kube.list<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', {labelSelector}))
      seen.set(`${s.metadata.namespace}/${s.metadata.name}`, s)
  }
  for (const [name, ns] of [
    [MANAGER.tokenSecret, MANAGER.namespace],
    [SCRAPE.tokenSecret, SCRAPE.namespace],
    ['argocd-secret', 'argocd'],
    ['argocd-initial-admin-secret', 'argocd'],
  ] as const) {
    const s = await kube.get<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', name, ns)
    if (s) seen.set(`${ns}/${name}`, s)
  }
  for (const s of seen.values()) {
    for (const [key, b64] of Object.entries(s.data ?? {})) {
      // names, addresses and certificates are public: keeping them readable helps, scrubbing them would hide nothing
      if (PUBLIC_KEYS.has(key)) continue
      scrub.add(b64)
      scrub.add(Buffer.from(b64, 'base64').toString('utf8'))
    }
  }
  // only token-secret: the id is the Secret's name, and the other keys are flags ('true') that would scrub every 'true'
  const bootstrap = await kube.list<KubeObject & {data?: Record<string, string>}>('v1', 'Secret', {
    namespace: 'kube-system',
    fieldSelector: 'type=bootstrap.kubernetes.io/token',
  })
  for (const s of bootstrap) {
    const b64 = s.data?.['token-secret']
    if (b64) scrub.add(Buffer.from(b64, 'base64').toString('utf8'))
  }
}
