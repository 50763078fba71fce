/**
 * The Scrubber (src/lib/diagnose/scrub.ts) on the shapes a diagnosis archive meets in logs, events and objects: each
 * secret is gone, what support needs around it stays. The shapes follow their sources: kubeadm's join command
 * (cmd/kubeadm/app/cmd/util/join.go joinCommandTemplate), an S3 presigned URL (AWS SigV4 query parameters
 * X-Amz-Credential / X-Amz-Signature), a pod's env in JSON as the API server serializes it and in YAML as kubectl
 * prints it, GitHub's and GitLab's token formats (ghp_…, glpat-…).
 */
import {describe, expect, it} from 'vitest'
import {redactText} from '../../src/lib/config/validators.js'
import {REDACTED, Scrubber} from '../../src/lib/diagnose/scrub.js'

const scrub = (text: string) => new Scrubber().scrub(text)

describe('Scrubber: shapes without a known value', () => {
  it.each([
    ['kubeadm --token', 'kubeadm join 10.0.0.1:6443 --token q7diag.k8sjointoken0042 \\', 'k8sjointoken0042', '--token [REDACTED] \\'],
    ['kubeadm --certificate-key on its own line', `--certificate-key ${'d1a9'.repeat(16)}`, 'd1a9d1a9', '--certificate-key [REDACTED]'],
    [
      'a presigned URL',
      'GET https://s3.lab/b/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1&X-Amz-Signature=deadbeefcafebabe0011',
      'deadbeefcafe',
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]',
    ],
    ['a JSON value with spaces', '{"password": "correct horse battery staple"}', 'horse', '{"password": "[REDACTED]"}'],
    ['a YAML value with spaces', "client_secret: 'correct horse battery'", 'horse', "client_secret: '[REDACTED]'"],
    ['Authorization: token …', 'Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'ghp_', 'Authorization: [REDACTED]'],
    ['x-api-key: …', 'curl -H x-api-key: 0123456789abcdef https://api.lab', '0123456789abcdef', 'x-api-key: [REDACTED] https://api.lab'],
    ['a GitLab token on its own', 'PRIVATE_TOKEN glpat-abcdefghijklmnop1234 rejected', 'glpat-', 'PRIVATE_TOKEN [REDACTED] rejected'],
    ['a GitHub token on its own', 'cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789 failed', 'ghp_', 'cloning with [REDACTED] failed'],
    [
      'a YAML block scalar under a secret-named key',
      'stringData:\n  password: |\n    multi-line-secret-value\n    its second line\n  username: admin',
      'multi-line-secret',
      'stringData:\n  password: |\n    [REDACTED]\n    [REDACTED]\n  username: admin',
    ],
    ['a folded scalar', 'token: >-\n  abc.def.ghi-token-body\nnext: 1', 'token-body', 'token: >-\n  [REDACTED]\nnext: 1'],
    [
      "a pod's env entry (JSON)",
      '"env": [{"name":"DB_PASS","value":"s3cr3tValue!"},{"name":"LOG_LEVEL","value":"debug"}]',
      's3cr3tValue',
      '"env": [{"name":"DB_PASS","value":"[REDACTED]"},{"name":"LOG_LEVEL","value":"debug"}]',
    ],
    [
      "a pod's env entry (pretty-printed JSON)",
      '{\n  "name": "API_TOKEN",\n  "value": "t0ken value"\n}',
      't0ken',
      '{\n  "name": "API_TOKEN",\n  "value": "[REDACTED]"\n}',
    ],
    [
      "a pod's env entry (YAML)",
      '    env:\n    - name: DB_PASS\n      value: s3cr3tValue!\n    - name: LOG_LEVEL\n      value: debug',
      's3cr3tValue',
      '    env:\n    - name: DB_PASS\n      value: [REDACTED]\n    - name: LOG_LEVEL\n      value: debug',
    ],
  ])('%s', (_what, text, secret, kept) => {
    const out = scrub(text)
    expect(out).not.toContain(secret)
    expect(out).toContain(kept)
  })

  it('what names or points at a secret stays readable: a secretKeyRef, a Secret name, a label, the CA hash, a placeholder', () => {
    const text = [
      '"secretKeyRef": {"key": "password", "name": "grafana-admin"}',
      '"secretName": "grafana-tls"',
      '"argocd.argoproj.io/secret-type": "cluster"',
      `--discovery-token-ca-cert-hash sha256:${'c'.repeat(64)}`,
      'kubeadm join 10.0.0.1:6443 --token <value withheld>',
      'tokenEnv: "OBSCTL_GIT_TOKEN"',
    ].join('\n')
    expect(scrub(text)).toBe(text)
    expect(scrub(text)).not.toContain(REDACTED)
  })
})

describe('one set of patterns: what the scrubber caught on its own, task logs and messages (redactText) now catch too', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLWJ5dGVz'
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAprivatekeybody\n-----END RSA PRIVATE KEY-----'
  it.each([
    ['a JWT (a service-account token) on its own', `token rejected: ${jwt}`, 'c2lnbmF0dXJl'],
    ['a PEM private key', `client-key:\n${pem}\nnext`, 'privatekeybody'],
    ['Basic auth in a header', 'Authorization header was Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['an unquoted YAML value under a secret-named key', 'objstore:\n  secret_key: s3cr3tS3key\n  bucket: thanos', 's3cr3tS3key'],
    ['`key = value` under a secret-named key', 'password = hunter2hunter2', 'hunter2'],
    ["a kubeconfig's client-key-data", '    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==', 'LS0tLS1CRUdJTi'],
  ])('%s', (_what, text, secret) => {
    const archived = scrub(text)
    const logged = redactText(text, {})
    expect(archived).not.toContain(secret)
    expect(archived).toContain(REDACTED)
    expect(logged).not.toContain(secret)
    expect(logged).toContain('***')
  })

  it("a URL's password: the archive keeps the user (support needs it), a message drops both; what is no secret stays in both", () => {
    const text = 'mc alias set s3 https://minio:minio-pass-123@s3.example.test/bucket; bucket: thanos; retention: 12h'
    expect(scrub(text)).toBe('mc alias set s3 https://minio:[REDACTED]@s3.example.test/bucket; bucket: thanos; retention: 12h')
    expect(redactText(text, {})).toBe('mc alias set s3 https://s3.example.test/bucket; bucket: thanos; retention: 12h')
  })
})

describe('Scrubber: known values', () => {
  it('two values that overlap in the text are both gone, the overlap and each one whole', () => {
    const s = new Scrubber()
    s.add('s3cr3t-alpha-OVERLAP')
    s.add('OVERLAP-beta-t0ken')
    // one replaced first used to leave the other's rest: "[REDACTED]-beta-t0ken"
    expect(s.scrub('joined: s3cr3t-alpha-OVERLAP-beta-t0ken; next')).toBe(`joined: ${REDACTED}; next`)
    expect(s.scrub('alone: OVERLAP-beta-t0ken and s3cr3t-alpha-OVERLAP.')).toBe(`alone: ${REDACTED} and ${REDACTED}.`)
  })

  it("a fleet's credentials (30,000 values: each cluster's admin key, line by line, and a token): every one in the text is gone, the rest is as it was", () => {
    const s = new Scrubber()
    const values: string[] = []
    for (let c = 0; c < 1000; c++) {
      const n = String(c).padStart(4, '0')
      // a private key's lines (64 base64 characters each, as kubeadm's PEM) and a bearer token
      const lines = Array.from({length: 28}, (_, l) => `MII${n}${String(l).padStart(2, '0')}${'Qk'.repeat(28)}${n}`.slice(0, 64))
      s.add(`-----BEGIN RSA PRIVATE KEY-----\n${lines.join('\n')}\n-----END RSA PRIVATE KEY-----`)
      s.add(`tok-${n}-abcdefghijklmnopqrst`)
      values.push(lines[7]!, `tok-${n}-abcdefghijklmnopqrst`)
    }
    expect(s.size).toBeGreaterThan(30_000)
    const shown = values.filter((_, i) => i % 97 === 0)
    const text = shown.map((v, i) => `line ${i} of cluster logs, value=${v} (plain text around it)`).join('\n')
    const out = s.scrub(text)
    for (const v of shown) expect(out).not.toContain(v)
    expect(out).toBe(shown.map((_, i) => `line ${i} of cluster logs, value=${REDACTED} (plain text around it)`).join('\n'))
  })
})

describe('one line of megabytes', () => {
  // A container log line can be a whole JSON document, a base64 blob or a dump without spaces. The key=value pattern
  // used to try every position of a run of word characters and scan the run from each: a 64 KiB run took ~4 s and a
  // log of twenty such lines minutes (quadratic in the run's length). 4 MiB runs finish in well under a second each
  // when every pattern is linear, and would take hours otherwise: the deadline below is not what this test measures.
  const MiB = 1024 * 1024
  it.each([
    ['word characters', () => 'x'.repeat(4 * MiB)],
    ['hex', () => 'deadbeef'.repeat(MiB / 2)],
    ['dotted', () => 'a.'.repeat(2 * MiB)],
    ['dashed', () => 'x-'.repeat(2 * MiB)],
    ['underscores', () => '_'.repeat(4 * MiB)],
    ['a URL without a password', () => `https://example.test/${'x'.repeat(4 * MiB)}`],
    ['digits before a key', () => `${'1'.repeat(4 * MiB)}password=hunter2hunter2`],
  ])(
    'a run of %s: redacted as a short one, the secret after it too',
    (_, run) => {
      const text = `[info] ${run()} password=hunter2hunter2 end`
      const out = redactText(text, {}, REDACTED)
      expect(out.endsWith(` password=${REDACTED} end`)).toBe(true)
      expect(out).not.toContain('hunter2hunter2')
      expect(new Scrubber().scrub(text).endsWith(` password=${REDACTED} end`)).toBe(true)
    },
    120_000,
  )
})
