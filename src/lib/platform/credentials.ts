/** Credentials for the platform's services: OpenSearch basic auth, S3 keys, and the platform CA that obsctl issued. */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {obsctlDir} from '../config/model.js'
import type {Platform} from '../config/schema.js'
import {canPrompt, prompter} from '../prompt.js'
import type {S3Credentials} from './s3.js'
import {CREDENTIAL_ENV} from './catalogue.js'
import {envValue} from '../env.js'
import {isObsctlError} from '../errors.js'

export interface OpenSearchCredentials {
  user: string
  password: string
}

/** OpenSearch credentials from the environment, else asked on a terminal, else the reason there are none. */
export async function opensearchCredentials(prompt: boolean): Promise<OpenSearchCredentials | {missing: string}> {
  let user = envValue(CREDENTIAL_ENV.user)
  let password = envValue(CREDENTIAL_ENV.password, {secret: true})
  if (user && password) return {user, password}
  if (!prompt || !canPrompt())
    return {
      missing: `OpenSearch credentials missing: set $${CREDENTIAL_ENV.user} and $${CREDENTIAL_ENV.password} (obsctl does not prompt without a terminal or with CI set)`,
    }
  const ask = prompter([`export ${CREDENTIAL_ENV.user}=… ${CREDENTIAL_ENV.password}=…`])
  user ??= await ask.input({message: `OpenSearch user (not set in $${CREDENTIAL_ENV.user})`, default: 'admin'})
  password ??= await ask.password({message: `OpenSearch password for ${user} (not set in $${CREDENTIAL_ENV.password})`})
  return {user, password}
}

/** S3 keys (environment or prompt, as `s3 setup` resolves them); an Error says why there are none. */
export async function s3Credentials(platform: Platform): Promise<S3Credentials | Error> {
  const {resolveCredentials} = await import('./s3.js')
  try {
    return await resolveCredentials(platform)
  } catch (e) {
    // a key set to a blank or multi-line value is bad input before any check runs, not a check's failure
    if (isObsctlError(e) && e.code === 'BAD_ENV') throw e
    return e as Error
  }
}

/** Where obsctl keeps the platform CA and its key (`.obsctl/pki` beside the inventory). */
export function pkiDir(inventoryDir: string): string {
  return path.join(obsctlDir(inventoryDir), 'pki')
}

/** The PEM of the platform CA that `secrets apply` issued the ingress and OpenSearch certificates from, when there is one. */
export function platformCaPem(inventoryDir: string): string | undefined {
  const file = path.join(pkiDir(inventoryDir), 'ca.crt')
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}
