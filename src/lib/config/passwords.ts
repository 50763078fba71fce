/**
 * The platform's passwords come from environment variables (never the inventory). They are checked
 * against what their consumer enforces before anything is applied: `config validate`, the dry run and
 * `secrets apply` refuse a password the consumer would refuse later.
 *
 * OpenSearch (2.19, the version pinned): the security plugin's password rules — checked in
 * opensearch-project/security PasswordValidator.java (max 100 characters; not similar to the user name)
 * and SecuritySettingsConfigurer.java, which configures
 * `plugins.security.restapi.password_validation_regex: (?=.*[A-Z])(?=.*[^a-zA-Z\d])(?=.*[0-9])(?=.*[a-z]).{8,}`
 * and `password_min_length: 8`, the rules the docs give for the admin password since 2.12 ("between 8 and
 * 100 characters, one upper-case, one lower-case, one digit, one special character"). The plugin's zxcvbn
 * "strong" score is not recomputed here: a password that passes these rules may still be rated weak.
 *
 * Grafana: at least 4 characters without the strong password policy (pkg/services/user ValidatePassword);
 * obsctl asks for 8, like its prompt, and refuses Grafana's well-known default `admin`.
 */
import {valueProblem} from '../env.js'

/** Environment variables holding the platform's passwords (the names `secrets apply` reads). */
export const PASSWORD_ENV = {
  opensearchAdmin: 'OBSCTL_OPENSEARCH_ADMIN_PASSWORD',
  fluentbitOpensearch: 'OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD',
  grafanaAdmin: 'OBSCTL_GRAFANA_ADMIN_PASSWORD',
  /** Grafana's OpenSearch datasource user (an OpenSearch user) */
  grafanaOpensearch: 'OBSCTL_GRAFANA_OPENSEARCH_PASSWORD',
} as const

export type PasswordKind = keyof typeof PASSWORD_ENV

/** The user each password belongs to (for the "similar to the user name" rule). */
export const PASSWORD_USER: Record<PasswordKind, string> = {
  opensearchAdmin: 'admin',
  fluentbitOpensearch: 'fluentbit',
  grafanaAdmin: 'admin',
  grafanaOpensearch: 'grafana',
}

const OPENSEARCH_MIN = 8
const OPENSEARCH_MAX = 100
const GRAFANA_MIN = 8

/** Why the consumer would refuse this password, or undefined. Never includes the password itself. */
export function passwordProblem(kind: PasswordKind, value: string): string | undefined {
  const user = PASSWORD_USER[kind]
  if (kind === 'grafanaAdmin') {
    if (value.length < GRAFANA_MIN) return `has ${value.length} character(s); Grafana's admin password needs at least ${GRAFANA_MIN} here`
    if (value.toLowerCase() === 'admin') return "is Grafana's well-known default"
    return undefined
  }
  const missing: string[] = []
  if (!/[A-Z]/.test(value)) missing.push('an upper-case letter')
  if (!/[a-z]/.test(value)) missing.push('a lower-case letter')
  if (!/[0-9]/.test(value)) missing.push('a digit')
  if (!/[^a-zA-Z\d]/.test(value)) missing.push('a special character')
  if (value.length < OPENSEARCH_MIN) return `has ${value.length} character(s); OpenSearch's security plugin needs ${OPENSEARCH_MIN} to ${OPENSEARCH_MAX}`
  if (value.length > OPENSEARCH_MAX) return `has ${value.length} characters; OpenSearch's security plugin accepts at most ${OPENSEARCH_MAX}`
  if (missing.length > 0) return `lacks ${missing.join(', ')}: OpenSearch's security plugin requires one of each`
  const lower = value.toLowerCase()
  if (lower.includes(user) || lower.includes([...user].reverse().join('')))
    return `contains the user name "${user}": OpenSearch refuses passwords similar to the user name`
  return undefined
}

/** Problems of the passwords set in `env` (unset ones are skipped: they are kept, generated or prompted). */
export function envPasswordProblems(env: NodeJS.ProcessEnv = process.env): {kind: PasswordKind; env: string; problem: string}[] {
  const out: {kind: PasswordKind; env: string; problem: string}[] = []
  for (const kind of Object.keys(PASSWORD_ENV) as PasswordKind[]) {
    const name = PASSWORD_ENV[kind]
    const value = env[name]
    if (!value) continue
    const problem = valueProblem(value, {secret: true}) ?? passwordProblem(kind, value)
    if (problem) out.push({kind, env: name, problem})
  }
  return out
}
