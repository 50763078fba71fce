/**
 * Client-side encryption of backup objects (node:crypto only): AES-256-GCM with a key derived by scrypt
 * from the secret in the backup key env var, a fresh salt and IV per object, and the object's name as
 * additional authenticated data (an object renamed or swapped in the bucket does not decrypt).
 *
 *   "OBSCTLBK1\n" (10 bytes) | salt (16) | iv (12) | ciphertext | GCM tag (16)
 *
 * The secret never leaves this process: it is read from the environment (never argv), and neither it
 * nor the derived key is logged, journaled or uploaded.
 */
import {createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions} from 'node:crypto'
import {ObsctlError, inputError} from '../errors.js'
import {envValue} from '../env.js'

const MAGIC = Buffer.from('OBSCTLBK1\n')
const SALT = 16
const IV = 12
const TAG = 16
/** scrypt cost: 2^15 × 8 × 128 B = 32 MiB, about 0.1 s: cheap once per object, dear for a guesser */
const KDF: ScryptOptions = {N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024}
export const ENVELOPE = {cipher: 'aes-256-gcm', kdf: 'scrypt', N: KDF.N, r: KDF.r, p: KDF.p, format: 'OBSCTLBK1'} as const

/** Shortest secret accepted (a passphrase or, better, `openssl rand -base64 32`). */
export const MIN_SECRET = 16

function deriveKey(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, 32, KDF, (err, key) => (err ? reject(err) : resolve(key))))
}

/**
 * The backup secret from the environment: missing or too short is bad input (exit 2) naming the variable, and so is a
 * blank one or one with a line end (../env.ts) for a new backup. A restore takes the value as it is: a backup an older
 * obsctl made with such a key decrypts only with exactly that key.
 */
export function backupSecret(envName: string, o: {restore?: boolean} = {}): string {
  const v = o.restore ? process.env[envName] || undefined : envValue(envName, {secret: true})
  const hint = `export ${envName}="$(openssl rand -base64 32)" and keep a copy outside this machine: without it no backup can be restored`
  if (!v)
    throw inputError(
      `$${envName} is not set: backups are encrypted before upload with the secret in it`,
      [hint, 'or name another variable: backup.keyEnv in the inventory, or --key-env'],
      'BACKUP_KEY_MISSING',
    )
  if (v.length < MIN_SECRET) throw inputError(`$${envName} is too short (${v.length} characters; at least ${MIN_SECRET})`, [hint], 'BACKUP_KEY_WEAK')
  return v
}

export async function encrypt(plain: Buffer, secret: string, name: string): Promise<Buffer> {
  const salt = randomBytes(SALT)
  const iv = randomBytes(IV)
  const key = await deriveKey(secret, salt)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(Buffer.from(name, 'utf8'))
  const body = Buffer.concat([c.update(plain), c.final()])
  return Buffer.concat([MAGIC, salt, iv, body, c.getAuthTag()])
}

export async function decrypt(blob: Buffer, secret: string, name: string): Promise<Buffer> {
  if (blob.length < MAGIC.length + SALT + IV + TAG || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ObsctlError(`${name} is not an obsctl backup object (format ${ENVELOPE.format})`, {code: 'BACKUP_FORMAT'})
  }
  let o = MAGIC.length
  const salt = blob.subarray(o, (o += SALT))
  const iv = blob.subarray(o, (o += IV))
  const body = blob.subarray(o, blob.length - TAG)
  const tag = blob.subarray(blob.length - TAG)
  const key = await deriveKey(secret, salt)
  const d = createDecipheriv('aes-256-gcm', key, iv)
  d.setAAD(Buffer.from(name, 'utf8'))
  d.setAuthTag(tag)
  try {
    return Buffer.concat([d.update(body), d.final()])
  } catch {
    throw new ObsctlError(`${name} does not decrypt: a different backup key, or the object was changed`, {
      code: 'BACKUP_DECRYPT',
      hints: ['set the backup key env var (backup.keyEnv, or --key-env) to the secret the backup was made with'],
    })
  }
}
