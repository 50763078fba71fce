/**
 * The Argo CD admin password, the way Argo CD documents it: the first password is in Secret
 * argocd-initial-admin-secret (key `password`); a new one is a bcrypt hash in argocd-secret
 * `admin.password` with its change time in `admin.passwordMtime` (RFC 3339), after which the initial
 * secret is deleted (`argocd account update-password` does the same through the API).
 */
import {randomBytes} from 'node:crypto'
import {ObsctlError} from '../errors.js'
import {NAMESPACES} from '../config/model.js'
import type {Kube, KubeObject} from '../kube/index.js'
import {INITIAL_ADMIN_SECRET} from '../platform/index.js'

export {INITIAL_ADMIN_SECRET}
export const ARGOCD_SECRET = 'argocd-secret'
export const PASSWORD_FIELD_MANAGER = 'obsctl-password'

export interface PasswordReport {
  namespace: string
  /** the initial secret still exists */
  initialSecret: boolean
  /** only with --show (or a freshly generated one) */
  password?: string
  rotated: boolean
  generated?: boolean
  passwordMtime?: string
}

type SecretObj = KubeObject & {data?: Record<string, string>}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')

export async function readInitialPassword(kube: Kube): Promise<string | undefined> {
  const s = await kube.get<SecretObj>('v1', 'Secret', INITIAL_ADMIN_SECRET, NAMESPACES.argocd)
  const v = s?.data?.password
  return v ? unb64(v) : undefined
}

/** A password for people to type once and store: 24 characters from an unambiguous alphabet. */
export function generatePassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'
  const bytes = randomBytes(length * 2)
  let out = ''
  // rejection sampling keeps the distribution uniform
  for (const b of bytes) {
    if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length]
    if (out.length === length) break
  }
  return out.length === length ? out : generatePassword(length)
}

/** bcrypt (cost 10, as Argo CD's own hashing), with the `$2a$` prefix Argo CD's docs produce. */
export async function hashPassword(password: string): Promise<string> {
  const bcrypt = (await import('bcryptjs')).default
  const hash = await bcrypt.hash(password, 10)
  // $2b$ only differs from $2a$ for passwords longer than 255 bytes; bcrypt truncates at 72 anyway
  return hash.replace(/^\$2b\$/, '$2a$')
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const bcrypt = (await import('bcryptjs')).default
  return bcrypt.compare(password, hash)
}

/** RFC 3339 without fractional seconds, e.g. 2025-01-31T12:00:00Z */
export function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function checkPasswordStrength(password: string): void {
  if (password.length < 8)
    throw new ObsctlError('the new password is shorter than 8 characters', {
      exitCode: 2,
      code: 'WEAK_PASSWORD',
      hints: ['choose a longer one, or let obsctl generate one (--generate)'],
    })
  if (password.length > 72) throw new ObsctlError('the new password is longer than 72 bytes, which bcrypt ignores beyond', {exitCode: 2, code: 'WEAK_PASSWORD'})
}

/** Set the admin password: bcrypt hash + mtime into argocd-secret, then delete the initial secret. */
export async function rotateAdminPassword(kube: Kube, password: string): Promise<{passwordMtime: string; initialDeleted: boolean}> {
  checkPasswordStrength(password)
  const ns = NAMESPACES.argocd
  const existing = await kube.get<SecretObj>('v1', 'Secret', ARGOCD_SECRET, ns)
  if (!existing) {
    throw new ObsctlError(`Secret ${ns}/${ARGOCD_SECRET} does not exist: Argo CD is not installed on ${kube.context}`, {
      code: 'ARGOCD_MISSING',
      hints: ['run obsctl argocd install first'],
    })
  }
  const passwordMtime = rfc3339()
  const hash = await hashPassword(password)
  // server-side apply under its own field manager owns only these two keys; the rest of argocd-secret
  // stays the install's (field manager obsctl) and Argo CD's
  await kube.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {name: ARGOCD_SECRET, namespace: ns},
      data: {'admin.password': b64(hash), 'admin.passwordMtime': b64(passwordMtime)},
    },
    {fieldManager: PASSWORD_FIELD_MANAGER},
  )
  const initialDeleted = await kube.delete({apiVersion: 'v1', kind: 'Secret', metadata: {name: INITIAL_ADMIN_SECRET, namespace: ns}})
  return {passwordMtime, initialDeleted}
}
