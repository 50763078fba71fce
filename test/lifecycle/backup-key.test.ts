/**
 * The backup key from the environment (src/lib/lifecycle/envelope.ts backupSecret): a new backup refuses a key that is
 * blank or holds a line end (exit 2 naming the variable, the value never shown); a restore takes the key exactly as
 * set, since a backup an older obsctl made with such a key decrypts only with that key — checked by encrypting with
 * it and decrypting with what the restore reads.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {backupSecret, decrypt, encrypt} from '../../src/lib/lifecycle/envelope.js'
import {isObsctlError} from '../../src/lib/errors.js'

const NAME = 'OBSCTL_TEST_BACKUP_KEY_VALUE'
const KEY = 'an-older-backup-key-with-a-line-end\n'

afterEach(() => {
  delete process.env[NAME]
})

function refusal(): unknown {
  try {
    backupSecret(NAME)
  } catch (e) {
    return e
  }
  return undefined
}

describe('the backup key', () => {
  it('backup create refuses a key with a line end or only spaces: exit 2, the variable named, the value not shown', () => {
    for (const [value, says] of [
      [KEY, `$${NAME} holds a newline at its end`],
      [' '.repeat(20), `$${NAME} is blank: only whitespace`],
    ]) {
      process.env[NAME] = value
      const e = refusal()
      expect(isObsctlError(e) && {exitCode: e.exitCode, code: e.code, message: e.message}).toEqual({exitCode: 2, code: 'BAD_ENV', message: says})
      expect(JSON.stringify(e) + String((e as Error).message) + (e as {hints: string[]}).hints.join('\n')).not.toContain('older-backup-key')
    }
  })

  it('backup restore takes it as set: what an older obsctl encrypted with that key decrypts', async () => {
    const blob = await encrypt(Buffer.from('etcd snapshot'), KEY, 'b/cluster-01/etcd.db.enc')
    process.env[NAME] = KEY
    const key = backupSecret(NAME, {restore: true})
    expect(key).toBe(KEY)
    expect((await decrypt(blob, key, 'b/cluster-01/etcd.db.enc')).toString()).toBe('etcd snapshot')
  })
})
