/** Unit tests of the inventory's field validators, units and password rules. */
import {describe, expect, it} from 'vitest'
import {passwordProblem, envPasswordProblems} from '../../src/lib/config/passwords.js'
import {
  cpuError,
  cpuMillis,
  durationRangeError,
  durationSeconds,
  isCpu,
  isDuration,
  isMemory,
  memoryBytes,
  memoryError,
  parseQuantity,
} from '../../src/lib/config/units.js'
import {
  cidrError,
  compareVersions,
  dnsLabelError,
  dnsSubdomainError,
  gitRemoteError,
  hostError,
  httpUrlError,
  ipError,
  overlaps,
  parseCidr,
  parseLbEntry,
  plainHttpCredentialError,
  redactUrl,
  semverError,
  urlKey,
  vTagError,
} from '../../src/lib/config/validators.js'

describe('addresses (ipaddr.js)', () => {
  it.each(['192.168.101.194', '10.0.0.1', '0.0.0.0', '255.255.255.255', '::1', 'fd00::10', '2001:db8::1'])('%s is an address', (a) =>
    expect(ipError(a)).toBeUndefined(),
  )
  it.each(['300.1.2.3', '999.1.1.1', '1.2.3', '1.2.3.4.5', '010.1.1.1', '0x7f.0.0.1', 'fd00::g', '1.2.3.-1'])('%s is not', (a) =>
    expect(ipError(a)).toBeDefined(),
  )

  it.each(['10.244.0.0/16', '10.96.0.0/12', '0.0.0.0/0', '192.168.1.1/32', 'fd00:10:244::/56'])('CIDR %s', (c) => expect(cidrError(c)).toBeUndefined())
  it.each([
    ['999.1.1.1/99', /999\.1\.1\.1/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['fd00::/129', /0-128/],
    ['10.0.0.0', /ADDRESS\/PREFIX/],
    ['10.0.0.0/abc', /prefix/],
  ])('CIDR %s is refused', (c, says) => expect(cidrError(c)).toMatch(says))

  it('a CIDR is the range of its network, host bits ignored', () => {
    const r = parseCidr('10.244.1.7/16')!
    expect([r.start, r.end]).toEqual([BigInt(0x0af40000), BigInt(0x0af4ffff)])
  })

  it('LB entries: address, CIDR, START-STOP; backwards and mixed families refused', () => {
    expect(parseLbEntry('192.168.101.210-192.168.101.214')).toMatchObject({family: 'ipv4', end: BigInt(0xc0a865d6)})
    expect(parseLbEntry('192.168.101.214-192.168.101.210')).toMatch(/written backwards/)
    expect(parseLbEntry('192.168.101.1-fd00::1')).toMatch(/mixes IPv4 and IPv6/)
    expect(parseLbEntry('192.168.101.300')).toMatch(/not an IPv4/)
    expect(parseLbEntry('fd00::1-fd00::9')).toMatchObject({family: 'ipv6'})
    expect(parseLbEntry('10.0.0.0/24')).toMatchObject({family: 'ipv4'})
  })

  it('overlap is per family and inclusive', () => {
    const a = parseCidr('10.244.0.0/16')!
    expect(overlaps(a, parseCidr('10.244.255.0/24')!)).toBe(true)
    expect(overlaps(a, parseCidr('10.245.0.0/16')!)).toBe(false)
    expect(overlaps(a, parseLbEntry('10.243.255.255-10.244.0.0') as never)).toBe(true)
    expect(overlaps(parseCidr('::/0')!, a)).toBe(false)
  })
})

describe('names (RFC 1123 as Kubernetes checks them)', () => {
  it.each(['cluster-01', 'a', 'x'.repeat(63)])('label %s', (n) => expect(dnsLabelError(n)).toBeUndefined())
  it.each(['노드 4!', 'Cluster-01', '-a', 'a-', 'a_b', 'x'.repeat(64), ''])('label %j refused', (n) => expect(dnsLabelError(n)).toBeDefined())
  it.each(['miribit.lab', 'k8s-cluster-01.miribit.lab', 'a.b.c'])('subdomain %s', (n) => expect(dnsSubdomainError(n)).toBeUndefined())
  it.each([
    ['miribit..lab', /empty label/],
    ['.miribit.lab', /empty label/],
    ['miribit.lab.', /empty label/],
    ['miri_bit.lab', /miri_bit/],
    [`${'a'.repeat(64)}.lab`, /longer than 63/],
  ])('subdomain %s refused', (n, says) => expect(dnsSubdomainError(n)).toMatch(says))
  it('hosts: an address or a host name (any case)', () => {
    expect(hostError('Node-1.Lab')).toBeUndefined()
    expect(hostError('192.168.101.194')).toBeUndefined()
    expect(hostError('300.1.2.3')).toMatch(/not an IPv4/)
    expect(hostError('bad host')).toBeDefined()
  })
})

describe('URLs carry no credentials', () => {
  it('http(s) URLs', () => {
    expect(httpUrlError('https://s3.minio.miribit.lab', 'fix')).toBeUndefined()
    expect(httpUrlError('http://127.0.0.1:9000/path', 'fix')).toBeUndefined()
    expect(httpUrlError('https://[fd00::1]:6443', 'fix')).toBeUndefined()
    expect(httpUrlError('https://ak:sk@s3.lab', 'set s3.accessKeyEnv')).toMatch(/carries a credential.*set s3\.accessKeyEnv/)
    expect(httpUrlError('https://token@s3.lab', 'x')).toMatch(/carries a credential/)
    expect(httpUrlError('ftp://s3.lab', 'x')).toMatch(/http:\/\/ or https:\/\//)
    expect(httpUrlError('s3.lab', 'x')).toMatch(/not a URL/)
    expect(httpUrlError('https://bad_host.lab', 'x')).toMatch(/bad_host/)
  })
  it('plain http only for a service that gets no credential from obsctl', () => {
    for (const s of ['opensearch', 'grafana', 'argocd'])
      expect(plainHttpCredentialError(s, 'http://127.0.0.1:9200')).toMatch(new RegExp(`^plain http is refused for ${s}: obsctl sends it .*https://`))
    expect(plainHttpCredentialError('opensearch', 'HTTP://os.lab')).toBeDefined()
    expect(plainHttpCredentialError('opensearch', 'https://os.lab')).toBeUndefined()
    for (const s of ['prometheus', 'thanos-query', 'thanos-compactor', 'alertmanager', 'thanos-receive', 'opensearch-dashboards'])
      expect(plainHttpCredentialError(s, 'http://127.0.0.1:9090')).toBeUndefined()
  })
  it('the message never repeats the secret', () => {
    expect(httpUrlError('https://ak:sup3rsecret@s3.lab', 'x')).not.toContain('sup3rsecret')
    expect(httpUrlError('notaurl://ak:sup3rsecret@', 'x') ?? '').not.toContain('sup3rsecret')
    expect(redactUrl('https://u:p@h.lab/x')).toBe('https://h.lab/x')
  })
  it('Git remotes: https without userinfo, ssh with a user, scp-like', () => {
    expect(gitRemoteError('https://git.miribit.lab/platform/x.git')).toBeUndefined()
    expect(gitRemoteError('ssh://git@git.miribit.lab/platform/x.git')).toBeUndefined()
    expect(gitRemoteError('git@git.miribit.lab:platform/x.git')).toBeUndefined()
    expect(gitRemoteError('/srv/git/x.git')).toBeUndefined()
    expect(gitRemoteError('https://bob:ghp_x@git.lab/x.git')).toMatch(/git\.tokenEnv/)
    expect(gitRemoteError('https://ghp_x@git.lab/x.git')).toMatch(/git\.tokenEnv/)
    expect(gitRemoteError('ssh://git:pw@git.lab/x.git')).toMatch(/git\.sshKeyFile/)
    expect(gitRemoteError('not a remote')).toMatch(/not a Git remote/)
  })
})

describe('versions (semver)', () => {
  it('semantic versions and release tags', () => {
    expect(semverError('78.2.1', 'x')).toBeUndefined()
    expect(semverError('1.0.0-rc.1', 'x')).toBeUndefined()
    for (const v of ['banana', '2.19', 'v1.2.3', '1.2', '01.2.3']) expect(semverError(v, '1.2.3'), v).toMatch(/not a semantic version/)
    expect(vTagError('v3.1.9', 'x')).toBeUndefined()
    expect(vTagError('3.1.9', 'v3.1.9')).toMatch(/release tag/)
    expect(vTagError('vlatest', 'v3.1.9')).toMatch(/release tag/)
  })
  it('compares by precedence, not as text', () => {
    expect(compareVersions('1.10.0', '1.9.2')).toBe(1)
    expect(compareVersions('79.0.0', '78.2.1')).toBe(1)
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1)
    expect(compareVersions('v0.39.2', 'v0.39.2')).toBe(0)
  })
})

describe('durations as Prometheus writes them', () => {
  it.each([
    ['6h', 6 * 3600],
    ['30d', 30 * 86_400],
    ['1d12h', 36 * 3600],
    ['1h30m', 5400],
    ['2w', 14 * 86_400],
    ['1y', 365 * 86_400],
    ['1y2w3d4h5m6s7ms', 365 * 86_400 + 14 * 86_400 + 3 * 86_400 + 4 * 3600 + 5 * 60 + 6 + 0.007],
    ['0', 0],
    ['5ms', 0.005],
  ])('%s = %d s', (d, s) => expect(durationSeconds(d)).toBeCloseTo(s, 6))
  it.each(['', 'h', '6', '1h1d', '1h1h', '6x', '1.5h', '-1h', '6H', ' 6h'])('%j is not a duration', (d) => expect(isDuration(d)).toBe(false))
  // prometheus/common model.ParseDuration refuses a duration past Go's time.Duration, 2^63-1 ns ("duration out of range")
  it.each(['106751d', '292y', '106751d23h47m16s854ms', '0', '15250w'])('%s is within what Prometheus takes', (d) =>
    expect(durationRangeError(d)).toBeUndefined(),
  )
  it.each(['106752d', '293y', '106751d23h47m16s855ms', '99999999999d', '9223372036854775808ms', `${'9'.repeat(40)}y`])(
    '%s is longer than Prometheus takes',
    (d) => expect(durationRangeError(d)).toMatch(/at most 106751d/),
  )
})

describe('quantities as Kubernetes writes them', () => {
  it.each([
    ['16Gi', 16 * 1024 ** 3],
    ['512Mi', 512 * 1024 ** 2],
    ['1k', 1000],
    ['1e9', 1e9],
    ['1E3', 1000],
    ['16G', 16e9],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['500m', 0.5],
    ['.5', 0.5],
    ['100n', 1e-7],
  ])('%s = %d', (q, n) => expect(parseQuantity(q)).toBeCloseTo(n, 9))
  it.each(['1K', '16GB', '16 Gi', 'abc', '1e', 'Gi', '1.2.3'])('%j is not a quantity', (q) => expect(parseQuantity(q)).toBeUndefined())
  it('CPU and memory', () => {
    expect(cpuMillis('500m')).toBe(500)
    expect(cpuMillis('2')).toBe(2000)
    expect(cpuMillis('2e0')).toBe(2000)
    expect(memoryBytes('1e9')).toBe(1e9)
    expect(isCpu('0')).toBe(false)
    expect(isMemory('1k')).toBe(true)
    expect(isMemory('-1Gi')).toBe(false)
  })
  it('E and Ei are exa and exbi, not an exponent without digits', () => {
    expect(parseQuantity('1Ei')).toBe(1024 ** 6)
    expect(parseQuantity('2E')).toBe(2e18)
    expect(parseQuantity('1E3')).toBe(1000)
    expect(isMemory('7Ei')).toBe(true)
  })
  // apimachinery quantity.go: a quantity holds at most 2^63-1 (maxAllowed), CPU is read in millicores (MaxMilliValue)
  it.each([
    ['9223372036854775', undefined],
    ['9223372036854775000m', undefined],
    ['9223372036854775.001', /more CPU than Kubernetes can count/],
    ['9223372036854776', /at most 9223372036854775 /],
    ['99999999999999999999', /at most 9223372036854775 /],
    ['1e16', /more CPU/],
    ['1e999', /more CPU/],
    ['10P', /more CPU/],
    ['0.001', undefined],
    ['1e-4', /CPU quantity/],
  ])('CPU %s', (q, says) => (says ? expect(cpuError(q)).toMatch(says) : expect(cpuError(q)).toBeUndefined()))
  it.each([
    ['9223372036854775807', undefined],
    ['8191Pi', undefined],
    ['7Ei', undefined],
    ['9223372036854775808', /at most 9223372036854775807 bytes/],
    ['8Ei', /more memory than a Kubernetes quantity holds/],
    ['9.3E', /more memory/],
    ['1e19', /more memory/],
    ['99999999999999999999Ei', /more memory/],
    ['16Gi', undefined],
    ['16GB', /memory quantity/],
  ])('memory %s', (q, says) => (says ? expect(memoryError(q)).toMatch(says) : expect(memoryError(q)).toBeUndefined()))
})

describe('platform passwords: what OpenSearch and Grafana enforce', () => {
  it('OpenSearch: 8 to 100 characters, one of each class, not the user name', () => {
    expect(passwordProblem('opensearchAdmin', 'Str0ng-Pw-for-os')).toBeUndefined()
    expect(passwordProblem('opensearchAdmin', 'Ab1!')).toMatch(/needs 8 to 100/)
    expect(passwordProblem('opensearchAdmin', `Aa1!${'x'.repeat(97)}`)).toMatch(/at most 100/)
    expect(passwordProblem('opensearchAdmin', 'alllower-1')).toMatch(/lacks an upper-case letter/)
    expect(passwordProblem('opensearchAdmin', 'NoDigits-here')).toMatch(/lacks a digit/)
    expect(passwordProblem('opensearchAdmin', 'NoSpecial123')).toMatch(/lacks a special character/)
    expect(passwordProblem('opensearchAdmin', 'My-Admin-2024')).toMatch(/user name "admin"/)
    expect(passwordProblem('fluentbitOpensearch', 'Fluentbit-2024!')).toMatch(/user name "fluentbit"/)
  })
  it('Grafana: at least 8, not the default', () => {
    expect(passwordProblem('grafanaAdmin', 'grafana-pw-1')).toBeUndefined()
    expect(passwordProblem('grafanaAdmin', 'admin')).toMatch(/at least 8/)
    expect(passwordProblem('grafanaAdmin', 'ADMIN')).toBeDefined()
  })
  it('only the passwords set in the environment are checked, and never echoed', () => {
    const found = envPasswordProblems({OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'weakpass', OBSCTL_GRAFANA_ADMIN_PASSWORD: 'long-enough-1'})
    expect(found.map((f) => f.env)).toEqual(['OBSCTL_OPENSEARCH_ADMIN_PASSWORD'])
    expect(JSON.stringify(found)).not.toContain('weakpass')
  })
})

describe('urlKey: one key per server, however its URL is spelt', () => {
  it('compares hosts as hostKey does and keeps an IPv6 host apart from its port', () => {
    expect(urlKey('https://API.Lab:443/')).toBe(urlKey('https://api.lab'))
    expect(urlKey('https://[FD00:0::1]:6443')).toBe(urlKey('https://[fd00::1]:6443'))
    expect(urlKey('https://[::ffff:10.0.0.1]:6443')).toBe(urlKey('https://10.0.0.1:6443'))
    expect(urlKey('https://[fd00::1]:6443')).not.toBe(urlKey('https://[fd00::1:6443]'))
    expect(urlKey('https://api.lab:6443')).not.toBe(urlKey('https://api.lab:7443'))
    expect(urlKey('not a url')).toBe('not a url')
  })
})
