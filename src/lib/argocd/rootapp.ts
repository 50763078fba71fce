/**
 * The `root-app` phase: the rendered argocd/root-app.yaml (app of apps) on central, and — when the
 * GitOps remote is private — Argo CD's repository credentials as a Secret in the cluster (label
 * argocd.argoproj.io/secret-type: repository), read from the deploy key file or a token env var,
 * never written to Git.
 */
import path from 'node:path'
import {ObsctlError, inputError, fsReason} from '../errors.js'
import {NAMESPACES, gitDir} from '../config/model.js'
import type {Platform} from '../config/schema.js'
import {scpLikeRemote} from '../config/validators.js'
import {sha256} from '../hash.js'
import {describeObject, type Kube, type KubeObject} from '../platform/kube.js'
import {intoNamespace, parseObjects} from './manifest.js'
import {LABELS, fnv32a} from './register.js'
import {readText} from '../fs.js'
import {envValue} from '../env.js'

export const REPO_USERNAME = 'git'

export function rootAppFile(p: Platform, inventoryDir: string): string {
  return path.join(gitDir(p, inventoryDir), 'argocd', 'root-app.yaml')
}

export async function readRootApp(p: Platform, inventoryDir: string): Promise<{file: string; text: string; objects: KubeObject[]}> {
  const file = rootAppFile(p, inventoryDir)
  let text: string
  try {
    text = await readText(file)
  } catch {
    throw new ObsctlError(`the rendered ${file} is missing`, {code: 'NOT_RENDERED', hints: ['run obsctl render (or bootstrap --phase render) first']})
  }
  const objects = intoNamespace(await parseObjects(text, file), NAMESPACES.argocd)
  if (!objects.some((o) => o.kind === 'Application'))
    throw new ObsctlError(`${file} holds no Argo CD Application`, {code: 'ROOT_APP_INVALID', hints: ['run obsctl render again']})
  return {file, text, objects}
}

/** ssh remotes: git@host:path or ssh://…; everything else is https. */
/** ssh, as git reads the address: ssh:// or scp-like (scpLikeRemote, the one parser), so the key is what Argo CD gets. */
export function isSshRemote(remote: string): boolean {
  return /^ssh:\/\//i.test(remote) || scpLikeRemote(remote) !== undefined
}

export interface RepoCredential {
  kind: 'ssh' | 'token'
  /** where it came from: the key file or the env var (never the secret) */
  from: string
  secret: string
}

/** The credential Argo CD needs for a private remote, or undefined for a public one. */
export async function repoCredential(p: Platform, inventoryDir: string, prompt?: (question: string) => Promise<string>): Promise<RepoCredential | undefined> {
  if (!p.git.private) return undefined
  if (isSshRemote(p.git.remote)) {
    if (!p.git.sshKeyFile)
      throw inputError(
        `git.remote ${p.git.remote} is private over ssh, but git.sshKeyFile is not set`,
        ['set git.sshKeyFile to the deploy key Argo CD should use (read-only key of the GitOps repo)'],
        'GIT_CREDENTIALS',
      )
    const file = path.resolve(inventoryDir, p.git.sshKeyFile)
    let key: string
    try {
      key = await readText(file)
    } catch (error) {
      throw inputError(`cannot read git.sshKeyFile ${file}: ${fsReason(error)}`, ['point git.sshKeyFile at the private deploy key'], 'GIT_CREDENTIALS')
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key))
      throw inputError(`${file} is not a PEM/OpenSSH private key`, ['git.sshKeyFile must be the private half of the deploy key'], 'GIT_CREDENTIALS')
    return {kind: 'ssh', from: file, secret: key}
  }
  const env = p.git.tokenEnv
  const value = env ? envValue(env, {secret: true}) : undefined
  if (value) return {kind: 'token', from: `$${env}`, secret: value}
  if (prompt) {
    const v = await prompt(`Token for ${p.git.remote} (Argo CD reads the repo with it)`)
    if (v) return {kind: 'token', from: 'prompt', secret: v}
  }
  throw inputError(
    `git.remote ${p.git.remote} is private: Argo CD needs a token${env ? `, and $${env} is empty` : ', and git.tokenEnv is not set'}`,
    [env ? `export ${env}=<token with read access to the repo>` : 'set git.tokenEnv to the name of an env var holding the token, and export it'],
    'GIT_CREDENTIALS',
  )
}

export function repoSecretName(remote: string): string {
  return `repo-${fnv32a(remote)}`
}

export function repoSecretObject(p: Platform, cred: RepoCredential): KubeObject {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  const data: Record<string, string> = {type: b64('git'), url: b64(p.git.remote)}
  if (cred.kind === 'ssh') data.sshPrivateKey = b64(cred.secret)
  else Object.assign(data, {username: b64(REPO_USERNAME), password: b64(cred.secret)})
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {name: repoSecretName(p.git.remote), namespace: NAMESPACES.argocd, labels: {[LABELS.secretType]: 'repository', [LABELS.managedBy]: 'obsctl'}},
    data,
  }
}

/** A hash that changes when the credential changes, for fingerprints (never the value itself). */
export function credentialDigest(cred: RepoCredential | undefined): string | null {
  return cred ? sha256(`${cred.kind}\0${cred.secret}`).slice(0, 16) : null
}

export interface RootAppReport {
  file: string
  applied: string[]
  repoSecret?: string
  credentialFrom?: string
}

export async function applyRootApp(
  central: Kube,
  p: Platform,
  inventoryDir: string,
  opts: {log?: (l: string) => void; prompt?: (q: string) => Promise<string>; signal?: AbortSignal} = {},
): Promise<RootAppReport> {
  const log = opts.log ?? (() => {})
  const {file, objects} = await readRootApp(p, inventoryDir)
  const cred = await repoCredential(p, inventoryDir, opts.prompt)
  const report: RootAppReport = {file, applied: []}
  // credentials first: the root app's first sync needs them
  if (cred) {
    const s = repoSecretObject(p, cred)
    await central.apply(s)
    report.repoSecret = `${s.metadata.namespace}/${s.metadata.name}`
    report.credentialFrom = cred.from
    log(`repository credentials (${cred.kind} from ${cred.from}) in Secret ${report.repoSecret}`)
  }
  for (const o of objects) {
    if (opts.signal?.aborted) throw new ObsctlError('interrupted while applying the root app', {exitCode: 130, code: 'INTERRUPTED'})
    await central.apply(o)
    report.applied.push(describeObject(o))
    log(`applied ${describeObject(o)}`)
  }
  return report
}
