/** diagnose hides the credentials of every $KUBECONFIG file, not only the one new entries go to. */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {kubeconfigFiles} from '../../src/lib/platform/kube.js'
import {Scrubber} from '../../src/lib/diagnose/scrub.js'
import {kubeconfigSecrets} from '../../src/lib/diagnose/secrets.js'
import {tmpDir} from '../cli/helpers.js'

afterEach(() => vi.unstubAllEnvs())

describe('diagnose and a chain of kubeconfig files', () => {
  it('collects the tokens, passwords and client keys of each file of the chain', () => {
    const dir = tmpDir()
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')]
    writeFileSync(a, 'users:\n  - name: u1\n    user: {token: first-file-token-0123456789}\n')
    writeFileSync(
      b,
      `users:\n  - name: u2\n    user: {password: second-file-password-0123, client-key-data: ${Buffer.from('-----BEGIN PRIVATE KEY-----\nsecretkeybody0123\n-----END PRIVATE KEY-----\n').toString('base64')}}\n`,
    )
    vi.stubEnv('KUBECONFIG', `${a}${path.delimiter}${b}${path.delimiter}${path.join(dir, 'missing')}`)
    const scrub = new Scrubber()
    // as collect.ts does it
    for (const file of kubeconfigFiles(undefined)) kubeconfigSecrets(file, scrub)
    const out = scrub.scrub('tokens: first-file-token-0123456789 second-file-password-0123 secretkeybody0123')
    expect(out).not.toContain('first-file-token-0123456789')
    expect(out).not.toContain('second-file-password-0123')
    expect(out).not.toContain('secretkeybody0123')
  })
})
