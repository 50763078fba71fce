/**
 * Bad inputs, table-driven: each row is an inventory edit (made with the project's own edit code,
 * editInventoryText — the text setInventoryValue would write), an environment, a raw YAML text or an
 * argv. Each must be refused with exit 2, naming the field (with the file:line where it is written) or
 * the flag — at `config validate`, not in a late phase. Inventory rows are also refused by
 * setInventoryValue itself (config set), which writes nothing.
 */
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {EXAMPLE_ANSWERS, editInventoryText, loadInventory, parseInventory, renderInventoryYaml, setInventoryValue} from '../../src/lib/config/index.js'
import {isObsctlError} from '../../src/lib/errors.js'
import {obsctlAsync, requireBuild, tmpDir, type CliResult} from '../cli/helpers.js'

let dir: string
const EXAMPLE = renderInventoryYaml(EXAMPLE_ANSWERS)
const PUB_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5 user@host\n'

interface InventoryRow {
  name: string
  /** config set PATH VALUE edits, in order; {dir} is the test folder */
  set: [string, string][]
  /** the field path the refusal names */
  field: string
  /** a substring of the line the refusal must point at, in the edited file (or [substring, nth occurrence]) */
  line: string | [string, number]
  /** what the message says */
  says: RegExp
  env?: Record<string, string>
}

const R = (
  name: string,
  set: [string, string][],
  field: string,
  line: string | [string, number],
  says: RegExp,
  env?: Record<string, string>,
): InventoryRow => ({name, set, field, line, says, env})

const INVENTORY_ROWS: InventoryRow[] = [
  // addresses
  R(
    'CIDR with a 999 octet and /99',
    [['clusters.cluster-01.podCidr', '999.1.1.1/99']],
    'clusters[0].podCidr',
    'podCidr: 999.1.1.1/99',
    /not a CIDR.*999\.1\.1\.1/,
  ),
  R(
    'CIDR prefix too long',
    [['clusters.cluster-01.serviceCidr', '10.96.0.0/33']],
    'clusters[0].serviceCidr',
    'serviceCidr: 10.96.0.0/33',
    /prefix length must be 0-32/,
  ),
  R('node host 300.1.2.3', [['clusters.cluster-02.nodes[0].host', '300.1.2.3']], 'clusters[1].nodes[0].host', 'host: 300.1.2.3', /not an IPv4 or IPv6 address/),
  R(
    'node host with a leading zero',
    [['clusters.cluster-02.nodes[0].host', '192.168.101.096']],
    'clusters[1].nodes[0].host',
    'host: 192.168.101.096',
    /without leading zeros/,
  ),
  R(
    'API server with an invalid address',
    [['clusters.cluster-02.apiServer', 'https://300.1.2.3:6443']],
    'clusters[1].apiServer',
    'apiServer: https://300.1.2.3:6443',
    /not a URL/,
  ),
  R(
    'API server SAN that is no host name',
    [['clusters.cluster-01.apiServerSans', '["api server!"]']],
    'clusters[0].apiServerSans[0]',
    'api server!',
    /label "api server!"/,
  ),
  R(
    'pod and service ranges overlap',
    [['clusters.cluster-01.serviceCidr', '10.244.128.0/17']],
    'clusters[0].serviceCidr',
    'serviceCidr: 10.244.128.0/17',
    /overlaps podCidr 10\.244\.0\.0\/16/,
  ),
  R(
    'LB range written backwards',
    [['clusters.cluster-01.loadBalancerIPs', '["192.168.101.214-192.168.101.210"]']],
    'clusters[0].loadBalancerIPs[0]',
    '192.168.101.214-192.168.101.210',
    /written backwards/,
  ),
  R(
    'LB range with a bad address',
    [['clusters.cluster-01.loadBalancerIPs', '["192.168.101.300"]']],
    'clusters[0].loadBalancerIPs[0]',
    '192.168.101.300',
    /not an IPv4 or IPv6 address/,
  ),
  R(
    'LB range inside the pod range',
    [['clusters.cluster-01.loadBalancerIPs', '["10.244.1.0/24"]']],
    'clusters[0].loadBalancerIPs[0]',
    '10.244.1.0/24',
    /overlaps podCidr/,
  ),
  R(
    'LB range shared by two clusters',
    [['clusters.cluster-02.loadBalancerIPs', '["192.168.101.212"]']],
    'clusters[1].loadBalancerIPs[0]',
    '192.168.101.212',
    /overlaps 192\.168\.101\.210-192\.168\.101\.214 of cluster-01/,
  ),
  R(
    'node inside an LB range',
    [['clusters.cluster-01.loadBalancerIPs', '["192.168.101.190-192.168.101.195"]']],
    'clusters[0].nodes[0].host',
    'host: 192.168.101.194',
    /inside the load-balancer range/,
  ),
  R(
    'node inside the pod range',
    [['clusters.cluster-03.podCidr', '192.168.0.0/16']],
    'clusters[2].nodes[0].host',
    'host: 192.168.101.197',
    /inside cluster-03's podCidr/,
  ),
  R(
    "edge API server inside central's service range",
    [
      ['clusters.cluster-01.serviceCidr', '192.168.101.192/29'],
      ['clusters.cluster-01.nodes[0].host', '192.168.100.194'],
    ],
    'clusters[1].apiServer',
    'apiServer: https://192.168.101.196:6443',
    /inside the central cluster's serviceCidr/,
  ),
  // names
  R(
    'node name in Hangul with a space and !',
    [['clusters.cluster-02.nodes[0].name', '노드 4!']],
    'clusters[1].nodes[0].name',
    'name: 노드 4!',
    /may hold only lower-case letters/,
  ),
  R('cluster name with upper case and _', [['clusters.cluster-02.name', 'Cluster_02']], 'clusters[1].name', 'name: Cluster_02', /not a DNS label/),
  R('domain with two dots in a row', [['domain', 'miribit..lab']], 'domain', 'domain: miribit..lab', /empty label/),
  R(
    'duplicate node names in a cluster',
    [
      ['clusters.cluster-02.nodes[0].name', 'edge-a'],
      ['clusters.cluster-02.nodes[1]', '{host: 192.168.101.195, name: edge-a, roles: [worker], cpu: "4", memory: 16Gi}'],
    ],
    'clusters[1].nodes[1].name',
    ['name: edge-a', 2],
    /duplicate node name "edge-a"/,
  ),
  // an unknown field: with the known one meant, as an unknown value says it (it said "a typo? known here: …" alone)
  R(
    'typo in an endpoints key',
    [['endpoints.thanos-qeury', 'https://tq.miribit.lab']],
    'endpoints.thanos-qeury',
    'thanos-qeury:',
    /: unknown field "thanos-qeury" \(did you mean "thanos-query"\? known here: .*thanos-query/,
  ),
  R(
    'apiServr in a cluster',
    [['clusters.cluster-02.apiServr', 'https://192.168.101.196:6443']],
    'clusters[1].apiServr',
    'apiServr:',
    /: unknown field "apiServr" \(did you mean "apiServer"\? known here: name, /,
  ),
  R('clusterz at the top', [['clusterz', '[]']], 'clusterz', 'clusterz:', /: unknown field "clusterz" \(did you mean "clusters"\? known here: /),
  R(
    'an unknown field nothing is close to',
    [['ssh.colour', 'blue']],
    'ssh.colour',
    'colour:',
    /: unknown field "colour" \(a typo\? known here: user, port, identityFile/,
  ),
  // an unknown enum value: in obsctl's words with what was meant (zod said `Invalid option: expected one of "remote-scrape"|"agent"`)
  R(
    'metrics agnet',
    [['clusters.cluster-02.metrics', 'agnet']],
    'clusters[1].metrics',
    'metrics: agnet',
    /: unknown value "agnet" \(did you mean "agent"\? allowed: remote-scrape, agent\)$/m,
  ),
  R('profile lba', [['profile', 'lba']], 'profile', 'profile: lba', /: unknown value "lba" \(did you mean "lab"\? allowed: /),
  R(
    'metrics pushy: nothing close',
    [['clusters.cluster-02.metrics', 'pushy']],
    'clusters[1].metrics',
    'metrics: pushy',
    /: unknown value "pushy" \(allowed: remote-scrape, agent\)$/m,
  ),
  // versions
  R('chart version banana', [['versions.charts.longhorn', 'banana']], 'versions.charts.longhorn', 'longhorn: banana', /not a semantic version/),
  R('OpenSearch version without a patch', [['versions.opensearch', '"2.19"']], 'versions.opensearch', 'opensearch: "2.19"', /not a semantic version/),
  R('Thanos tag without its v', [['versions.thanos', '0.39.2']], 'versions.thanos', 'thanos: 0.39.2', /release tag vMAJOR/),
  R('Argo CD tag that is no version', [['versions.argocd', 'vlatest']], 'versions.argocd', 'argocd: vlatest', /release tag vMAJOR/),
  // credentials in URLs
  R(
    'token in git.remote',
    [['git.remote', 'https://bob:ghp_secret@git.miribit.lab/platform/x.git']],
    'git.remote',
    'remote: https://bob:ghp_secret@',
    /git\.tokenEnv/,
  ),
  R('keys in s3.endpoint', [['s3.endpoint', 'https://AKIA:secret@s3.minio.miribit.lab']], 's3.endpoint', 'endpoint: https://AKIA:secret@', /s3\.accessKeyEnv/),
  R(
    'password in an endpoints URL',
    [['endpoints.grafana', 'https://admin:pw@grafana.miribit.lab']],
    'endpoints.grafana',
    'grafana: https://admin:pw@',
    /carries a credential/,
  ),
  // plain http to a service obsctl sends credentials to (Basic auth, Argo CD's admin password)
  R(
    'plain http for OpenSearch',
    [['endpoints.opensearch', 'http://os.miribit.lab:9200']],
    'endpoints.opensearch',
    'opensearch: http://os.miribit.lab:9200',
    /plain http is refused for opensearch: obsctl sends it OpenSearch passwords/,
  ),
  R(
    'plain http for Grafana',
    [['endpoints.grafana', 'http://grafana.miribit.lab']],
    'endpoints.grafana',
    'grafana: http://',
    /plain http is refused for grafana/,
  ),
  R('plain http for Argo CD', [['endpoints.argocd', 'http://argocd.miribit.lab']], 'endpoints.argocd', 'argocd: http://', /plain http is refused for argocd/),
  // the kubeconfig obsctl merges and the Argo CD cluster Secret send the cluster's credentials to the API server
  R(
    'plain http for an API server',
    [['clusters.cluster-02.apiServer', 'http://192.168.101.196:6443']],
    'clusters[1].apiServer',
    'apiServer: http://192.168.101.196:6443',
    /plain http is refused for an API server: .*bearer token.*; use https:\/\/192\.168\.101\.196:6443/,
  ),
  // kubeadm binds the URL's port (6443 where none was written, before) while kubectl, Argo CD and Prometheus read 443
  R(
    'an API server URL without its port',
    [['clusters.cluster-02.apiServer', 'https://192.168.101.196']],
    'clusters[1].apiServer',
    'apiServer: https://192.168.101.196',
    /"https:\/\/192\.168\.101\.196" names no port: .* would take an https URL without one as 443; write the port, e\.g\. https:\/\/192\.168\.101\.196:6443 /,
  ),
  R(
    'password in the node proxy URL',
    [['ssh.proxy', '{http: "http://u:p@proxy.miribit.lab:3128"}']],
    'ssh.proxy.http',
    'http://u:p@proxy',
    /carries a credential/,
  ),
  R(
    'ssh.connectTimeoutSeconds past what a timer holds',
    [['ssh.connectTimeoutSeconds', '3000000']],
    'ssh.connectTimeoutSeconds',
    'connectTimeoutSeconds: 3000000',
    /86400/,
  ),
  R('ssh.user with a space', [['ssh.user', 'ops admin']], 'ssh.user', 'user: ops admin', /"ops admin" is not a login name/),
  R('ssh.user with a control character', [['ssh.user', '"ops\\u0000"']], 'ssh.user', 'user: "ops\\0"', /"ops\\u0000" is not a login name/),
  R('git.remote that is no remote', [['git.remote', 'not a remote']], 'git.remote', 'remote: not a remote', /not a Git remote/),
  R(
    'private remote over plain http (the token in cleartext)',
    [
      ['git.remote', 'http://git.miribit.lab/platform/x.git'],
      ['git.private', 'true'],
      ['git.tokenEnv', 'OBSCTL_GIT_TOKEN'],
    ],
    'git.remote',
    'remote: http://git.miribit.lab',
    /private over plain http: Argo CD would send the token from git\.tokenEnv in cleartext/,
  ),
  R('private https remote without a token env', [['git.private', 'true']], 'git.private', 'private: true', /git\.tokenEnv is not set/),
  // files the run will read
  R(
    'public key as ssh.identityFile',
    [['ssh.identityFile', '{dir}/id_ed25519.pub']],
    'ssh.identityFile',
    'identityFile: {dir}/id_ed25519.pub',
    /is a public key.*use the private half: .*id_ed25519\b/s,
  ),
  R('missing ssh.identityFile', [['ssh.identityFile', '{dir}/nope']], 'ssh.identityFile', 'identityFile: {dir}/nope', /no such file or directory/),
  R('folder as git.sshKeyFile', [['git.sshKeyFile', '{dir}/keys']], 'git.sshKeyFile', 'sshKeyFile: {dir}/keys', /is a directory/),
  R('s3.caFile without a certificate', [['s3.caFile', '{dir}/junk.pem']], 's3.caFile', 'caFile: {dir}/junk.pem', /holds no PEM certificate/),
  R(
    's3.caFile whose PEM block is no certificate',
    [['s3.caFile', '{dir}/broken.pem']],
    's3.caFile',
    'caFile: {dir}/broken.pem',
    /certificate 1 of 1 cannot be parsed.*valid PEM copy of the CA certificate/s,
  ),
  // durations and quantities
  R('duration with an unknown unit', [['retention.prometheus', '6x']], 'retention.prometheus', 'prometheus: 6x', /duration as Prometheus writes it/),
  R('duration units out of order', [['retention.prometheus', '1h1d']], 'retention.prometheus', 'prometheus: 1h1d', /largest first/),
  R(
    'bucket expiry not in whole days',
    [['s3.buckets.backups.expireAfter', '1d12h']],
    's3.buckets.backups.expireAfter',
    'expireAfter: 1d12h',
    /not a whole number of days/,
  ),
  R(
    'memory with an upper-case K',
    [['clusters.cluster-02.nodes[0].memory', '16000000K']],
    'clusters[1].nodes[0].memory',
    'memory: 16000000K',
    /kilo is a lower-case k/,
  ),
  R('CPU that is no quantity', [['clusters.cluster-02.nodes[0].cpu', 'four']], 'clusters[1].nodes[0].cpu', 'cpu: four', /CPU quantity/),
  // numbers past what the consumer takes: Prometheus' and Thanos' durations (64-bit nanoseconds), Kubernetes' int32
  // replicas, a quantity's 2^63-1 (CPU in millicores); each was accepted up to 2^53 or further
  R(
    'Thanos retention of 99999999999d',
    [['retention.thanos.raw', '99999999999d']],
    'retention.thanos.raw',
    'raw: 99999999999d',
    /99999999999d is longer than Prometheus and Thanos take: at most 106751d \(about 292y/,
  ),
  R('Prometheus retention of 293y', [['retention.prometheus', '293y']], 'retention.prometheus', 'prometheus: 293y', /at most 106751d/),
  R(
    'log retention of 106752d',
    [['retention.opensearch.deleteAfter', '106752d']],
    'retention.opensearch.deleteAfter',
    'deleteAfter: 106752d',
    /106752d is longer than Prometheus and Thanos take/,
  ),
  R(
    'bucket expiry of 99999999999w',
    [['s3.buckets.metrics.expireAfter', '99999999999w']],
    's3.buckets.metrics.expireAfter',
    'expireAfter: 99999999999w',
    /at most 106751d/,
  ),
  R('alert repeat interval of 300y', [['alerting.repeatInterval', '300y']], 'alerting.repeatInterval', 'repeatInterval: 300y', /at most 106751d/),
  R(
    'replicas past int32',
    [['replicas.prometheus', '2147483648']],
    'replicas.prometheus',
    'prometheus: 2147483648',
    /2147483648 replicas is more than Kubernetes holds: at most 2147483647 \(replicas is a 32-bit integer, int32/,
  ),
  R(
    'replicas of 2^53',
    [['replicas.opensearch-data', '9007199254740992']],
    'replicas.opensearch-data',
    'opensearch-data: 9007199254740992',
    /at most 2147483647/,
  ),
  R(
    'CPU past what Kubernetes counts',
    [['clusters.cluster-02.nodes[0].cpu', '"99999999999999999999"']],
    'clusters[1].nodes[0].cpu',
    'cpu: "99999999999999999999"',
    /more CPU than Kubernetes can count: at most 9223372036854775 \(it counts CPU in millicores/,
  ),
  R(
    'memory of 8Ei (a quantity holds 2^63-1)',
    [['clusters.cluster-02.nodes[0].memory', '8Ei']],
    'clusters[1].nodes[0].memory',
    'memory: 8Ei',
    /8Ei is more memory than a Kubernetes quantity holds: at most 9223372036854775807 bytes/,
  ),
  // passwords from the environment (checked before anything is applied)
  R('OpenSearch admin password too short', [], '$OBSCTL_OPENSEARCH_ADMIN_PASSWORD', '', /OpenSearch's security plugin needs 8 to 100/, {
    OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'Ab1!',
  }),
  R('Fluent Bit password without upper case', [], '$OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD', '', /lacks an upper-case letter/, {
    OBSCTL_FLUENTBIT_OPENSEARCH_PASSWORD: 'lower-case-only-1',
  }),
  R('OpenSearch password with the user name', [], '$OBSCTL_OPENSEARCH_ADMIN_PASSWORD', '', /contains the user name "admin"/, {
    OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'My-Admin-Pw-2024',
  }),
  R('OpenSearch CA file from the environment that is no certificate', [], '$OBSCTL_OPENSEARCH_CA_FILE', '', /holds no PEM certificate/, {
    OBSCTL_OPENSEARCH_CA_FILE: '/etc/hostname',
  }),
  R('Grafana admin password "admin"', [], '$OBSCTL_GRAFANA_ADMIN_PASSWORD', '', /at least 8/, {OBSCTL_GRAFANA_ADMIN_PASSWORD: 'admin'}),
  // values from the environment that are blank or hold a line end (checked here before a run reaches the service)
  R('OpenSearch admin password with a line end', [], '$OBSCTL_OPENSEARCH_ADMIN_PASSWORD', '', /holds a newline at its end/, {
    OBSCTL_OPENSEARCH_ADMIN_PASSWORD: 'Good-Passw0rd!\n',
  }),
  R('S3 secret key with a line end', [], 's3.secretKeyEnv', 'secretKeyEnv: OBSCTL_S3_SECRET_KEY', /\$OBSCTL_S3_SECRET_KEY holds a newline at its end/, {
    OBSCTL_S3_SECRET_KEY: 'probe-s3-secret-value\n',
  }),
  R(
    'Git token blank',
    [
      ['git.private', 'true'],
      ['git.tokenEnv', 'OBSCTL_GIT_TOKEN'],
    ],
    'git.tokenEnv',
    'tokenEnv: OBSCTL_GIT_TOKEN',
    /\$OBSCTL_GIT_TOKEN is blank/,
    {OBSCTL_GIT_TOKEN: '  '},
  ),
]

interface TextRow {
  name: string
  text: () => string
  /** the line the refusal points at */
  line: (text: string) => number
  says: RegExp
}

const ALIAS_BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
].join('\n')

const TEXT_ROWS: TextRow[] = [
  {name: 'YAML alias bomb', text: () => `${EXAMPLE}\n${ALIAS_BOMB}\n`, line: (t) => t.split('\n').findIndex((l) => l.startsWith('b: &b')) + 1, says: /alias/i},
  {
    name: 'YAML duplicate key',
    text: () => EXAMPLE.replace('profile: lab\n', 'profile: lab\nprofile: production\n'),
    line: (t) => t.split('\n').findIndex((l) => l.startsWith('profile: production')) + 1,
    says: /\(yaml\): Map keys must be unique/,
  },
  {name: 'empty inventory', text: () => '', line: () => 1, says: /expected a mapping/},
]

interface ArgvRow {
  name: string
  argv: string[]
  says: RegExp
}

const ARGV_ROWS: ArgvRow[] = [
  {name: '--interval abc', argv: ['status', '--interval', 'abc'], says: /--interval: expected an integer \(seconds\) but received: abc/},
  {name: '--interval without a value', argv: ['status', '--interval'], says: /--interval expects a value/},
  {name: '--port abc', argv: ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--port', 'abc'], says: /--port: expected an integer/},
  {
    name: '--timeout 0',
    argv: ['bootstrap', '--all', '--dry-run', '--timeout', '0'],
    says: /--timeout: expected an integer greater than or equal to 1 but received: 0/,
  },
  {
    name: '--timeout -5',
    argv: ['bootstrap', '--all', '--dry-run', '--timeout=-5'],
    says: /--timeout: expected an integer greater than or equal to 1 but received: -5/,
  },
  {
    name: '--concurrency 0',
    argv: ['bootstrap', '--all', '--dry-run', '--concurrency', '0'],
    says: /--concurrency: expected an integer greater than or equal to 1/,
  },
  {name: '--concurrency abc', argv: ['bootstrap', '--all', '--dry-run', '--concurrency', 'abc'], says: /--concurrency: expected an integer but received: abc/},
  {name: '--request-timeout 0', argv: ['validate', '--request-timeout', '0'], says: /--request-timeout: expected an integer greater than or equal to 1/},
  {name: 'a single-value flag twice', argv: ['config', 'validate', '-c', 'a.yaml', '-c', 'b.yaml'], says: /--config can only be specified once/},
  {name: 'an unknown flag', argv: ['config', 'validate', '--colour'], says: /Nonexistent flag: --colour/},
  {name: 'a phase that does not exist', argv: ['bootstrap', '--phase', 'nope'], says: /--phase=nope to be one of/},
  {
    name: 'upgrade chart --version banana',
    argv: ['upgrade', 'chart', 'longhorn', '--version', 'banana', '--dry-run'],
    says: /--version "banana" is not a semantic version/,
  },
  {
    name: 'upgrade chart downgrade',
    argv: ['upgrade', 'chart', 'longhorn', '--version', '1.9.2', '--dry-run'],
    says: /older than 1\.10\.0.*\n.*--allow-downgrade/,
  },
  {
    name: '--endpoint URL with a password',
    argv: ['validate', '--endpoint', 'opensearch=https://admin:hunter2pw@os.miribit.lab'],
    says: /--endpoint opensearch=https:\/\/os\.miribit\.lab\/: the URL carries a credential/,
  },
  {
    name: '--endpoint opensearch=http://…',
    argv: ['validate', '--endpoint', 'opensearch=http://os.miribit.lab:9200'],
    says: /--endpoint opensearch=http:\/\/os\.miribit\.lab:9200: plain http is refused for opensearch[^]*→ --endpoint opensearch=https:\/\/…/,
  },
  {
    name: '--endpoint argocd=http://… (validate)',
    argv: ['validate', 'argocd', '--endpoint', 'argocd=http://argocd.miribit.lab'],
    says: /--endpoint argocd=http:\/\/argocd\.miribit\.lab: plain http is refused for argocd/,
  },
  {
    name: '--endpoint grafana=http://… (secrets rotate)',
    argv: ['secrets', 'rotate', 'grafana', '--dry-run', '--endpoint', 'grafana=http://grafana.miribit.lab'],
    says: /--endpoint grafana=http:\/\/grafana\.miribit\.lab: plain http is refused for grafana/,
  },
  {
    name: 'argocd install --manifest http://…',
    argv: ['argocd', 'install', '--manifest', 'http://mirror.miribit.lab/argo-cd/install.yaml'],
    says: /--manifest http:\/\/mirror\.miribit\.lab\/argo-cd\/install\.yaml: plain http is refused for the Argo CD manifest/,
  },
  {
    name: 'bootstrap --argocd-manifest http://…',
    argv: ['bootstrap', '--all', '--dry-run', '--argocd-manifest', 'http://mirror.miribit.lab/argo-cd/install.yaml'],
    says: /--argocd-manifest http:\/\/mirror\.miribit\.lab\/argo-cd\/install\.yaml: plain http is refused[^]*→ --argocd-manifest https:\/\/…/,
  },
  {
    name: 'cluster add --api-server http://…',
    argv: ['cluster', 'add', 'cluster-05', '--host', '192.168.101.199', '--api-server', 'http://192.168.101.199:6443', '--dry-run'],
    says: /--api-server http:\/\/192\.168\.101\.199:6443 clusters\[4\]\.apiServer: .*plain http is refused for an API server[^]*https:\/\/192\.168\.101\.199:6443/,
  },
  {
    name: 'cluster add --host 300.1.2.3',
    argv: ['cluster', 'add', 'cluster-05', '--host', '300.1.2.3', '--dry-run'],
    says: /--host 300\.1\.2\.3 clusters\[4\]\.nodes\[0\]\.host: "300\.1\.2\.3" is not an IPv4/,
  },
  {
    name: 'config set through a value',
    argv: ['config', 'set', 'retention.prometheus.x', '1', '--dry-run'],
    says: /cannot set retention\.prometheus\.x: retention\.prometheus at \S+obsctl\.yaml:46:15 is a value \("6h"\)/,
  },
  {
    name: 'config set through a value in a flow mapping',
    argv: ['config', 'set', 's3.buckets.metrics.name.x', 'y', '--dry-run'],
    says: /s3\.buckets\.metrics\.name at \S+obsctl\.yaml:22:21 is a value \("thanos-metrics"\)/,
  },
  {
    name: 'config set to an alias with no anchor',
    argv: ['config', 'set', 'ssh.user', '*a', '--dry-run'],
    says: /ssh\.user: the value \*a is YAML for an alias/,
  },
  {
    name: 'cluster add NAME with a space',
    argv: ['cluster', 'add', 'cluster 05', '--host', '192.168.101.199', '--dry-run'],
    says: /cluster name cluster 05 is not a DNS label/,
  },
]

function fill(s: string): string {
  return s.replaceAll('{dir}', dir)
}

function editedText(row: InventoryRow): string {
  let text = EXAMPLE
  for (const [p, v] of row.set) text = editInventoryText(parseInventory(text, path.join(dir, 'x.yaml')), p, fill(v)).after
  return text
}

/** Run the CLI rows a few at a time (the machine is shared): results by index. */
async function pool<T>(items: T[], run: (t: T) => Promise<CliResult>, width = 3): Promise<CliResult[]> {
  const out: CliResult[] = []
  let next = 0
  await Promise.all(
    Array.from({length: width}, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await run(items[i]!)
      }
    }),
  )
  return out
}

const refused: string[] = []

describe('bad inputs are refused at config validate with exit 2, the field and its file:line', () => {
  let results: CliResult[]
  const files: string[] = []
  beforeAll(async () => {
    requireBuild()
    dir = tmpDir('obsctl-bad-inputs-')
    writeFileSync(path.join(dir, 'id_ed25519.pub'), PUB_KEY)
    mkdirSync(path.join(dir, 'keys'))
    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate\n')
    writeFileSync(path.join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n')
    INVENTORY_ROWS.forEach((row, i) => {
      const f = path.join(dir, `inv-${i}.yaml`)
      writeFileSync(f, editedText(row))
      files.push(f)
    })
    results = await pool(
      INVENTORY_ROWS.map((row, i) => ({row, i})),
      ({row, i}) => obsctlAsync(['config', 'validate', '-c', files[i]!], {env: row.env}),
    )
  }, 180_000)
  afterAll(() => {
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it.each(INVENTORY_ROWS.map((row, i) => [row.name, i] as const))('%s', (_name, i) => {
    const row = INVENTORY_ROWS[i]!
    const r = results[i]!
    const out = r.stdout + r.stderr
    expect(r.status, out).toBe(2)
    if (row.line) {
      const text = readFileSync(files[i]!, 'utf8')
      const [needle, nth] = typeof row.line === 'string' ? [row.line, 1] : row.line
      const line =
        text
          .split('\n')
          .map((l, k) => (l.includes(fill(needle)) ? k + 1 : 0))
          .filter(Boolean)[nth - 1] ?? 0
      expect(line, `no line with ${needle}`).toBeGreaterThan(0)
      // human output: "✖ error FILE:LINE:COL FIELD" (lint) or "FILE:LINE:COL: FIELD: message" (schema)
      expect(out).toMatch(new RegExp(`${escape(files[i]!)}:${line}:\\d+:? ${escape(row.field)}(?![\\w.[])`))
    } else {
      expect(out).toContain(`environment ${row.field}`)
    }
    expect(out).toMatch(row.says)
    // no secret is echoed back
    for (const [k, v] of Object.entries(row.env ?? {})) if (k.endsWith('PASSWORD') && v.length > 5) expect(out).not.toContain(v)
    expect(out).not.toContain('ghp_secret')
    refused.push(row.name)
  })

  // files and passwords are checked by config validate and bootstrap (this workstation), not by edits
  const EDIT_ROWS = INVENTORY_ROWS.filter((r) => r.set.length > 0 && !r.env && !['ssh.identityFile', 'git.sshKeyFile', 's3.caFile'].includes(r.field))
  it.each(EDIT_ROWS.map((row) => [row.name, row] as const))('config set refuses it too and writes nothing: %s', async (_name, row) => {
    // the last edit, applied with setInventoryValue to the file holding the earlier ones
    const earlier = {...row, set: row.set.slice(0, -1)}
    const f = path.join(dir, `set-${INVENTORY_ROWS.indexOf(row)}.yaml`)
    writeFileSync(f, editedText(earlier))
    const before = readFileSync(f, 'utf8')
    const [p, v] = row.set.at(-1)!
    let err: unknown
    try {
      await setInventoryValue(loadInventory(f), p, fill(v))
    } catch (e) {
      err = e
    }
    expect(isObsctlError(err), String(err)).toBe(true)
    expect((err as {exitCode: number}).exitCode).toBe(2)
    expect((err as Error).message).toContain(row.field)
    expect((err as Error).message).toMatch(new RegExp(`${escape(f)}:\\d+:\\d+ `))
    expect(readFileSync(f, 'utf8')).toBe(before)
  })
})

describe('bad YAML is refused with file:line', () => {
  it.each(TEXT_ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const d = tmpDir('obsctl-bad-yaml-')
    try {
      const f = path.join(d, 'obsctl.yaml')
      const text = row.text()
      writeFileSync(f, text)
      const r = await obsctlAsync(['config', 'validate', '-c', f])
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toMatch(new RegExp(`${escape(f)}:${row.line(text)}:\\d+`))
      expect(r.stderr).toMatch(row.says)
      expect(r.stderr).not.toMatch(/TypeError|ReferenceError|Cannot read properties/)
      refused.push(row.name)
    } finally {
      rmSync(d, {recursive: true, force: true})
    }
  })
})

describe('bad flags exit 2 naming the flag', () => {
  let d: string
  let results: CliResult[]
  beforeAll(async () => {
    requireBuild()
    d = tmpDir('obsctl-bad-flags-')
    writeFileSync(path.join(d, 'obsctl.yaml'), EXAMPLE)
    results = await pool(ARGV_ROWS, (row) => obsctlAsync(row.argv, {cwd: d}))
  }, 180_000)
  afterAll(() => {
    if (d) rmSync(d, {recursive: true, force: true})
  })

  it.each(ARGV_ROWS.map((r, i) => [r.name, i] as const))('%s', (_name, i) => {
    const r = results[i]!
    expect(r.status, r.stdout + r.stderr).toBe(2)
    expect(r.stderr).toMatch(ARGV_ROWS[i]!.says)
    expect(r.stderr).not.toContain('UNEXPECTED')
    expect(r.stderr).not.toContain('hunter2pw')
    refused.push(ARGV_ROWS[i]!.name)
  })
})

describe('count', () => {
  it('reports how many bad inputs were refused', () => {
    const total = INVENTORY_ROWS.length + TEXT_ROWS.length + ARGV_ROWS.length
    // printed for the report (vitest shows console output of passing tests with --reporter=verbose)
    console.log(`bad inputs refused with exit 2: ${refused.length} of ${total}`)
    expect(refused.length).toBe(total)
  })
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
