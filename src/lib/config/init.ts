/** `obsctl init`: the wizard (inquirer) or the seed's lab, written as a commented inventory that passes lint. */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {inputError} from '../errors.js'
import {ensurePrivateDir, OBSCTL_DIR_NAME, writeFileAtomic} from '../fs.js'
import {canPrompt, prompter} from '../prompt.js'
import {parseInventory} from './load.js'
import {lintInventory} from './lint.js'
import {jsonSchema} from './schema.js'
import {EXAMPLE_ANSWERS, renderInventoryYaml, type InitAnswers, type InitCluster} from './write.js'

export interface InitOptions {
  file: string
  example?: boolean
  force?: boolean
  /** answers supplied programmatically (tests, other commands); skips the prompts */
  answers?: InitAnswers
}

export interface InitResult {
  file: string
  clusters: number
  nodes: number
  example: boolean
  /** .obsctl/schema.json beside the inventory: the JSON Schema its `# yaml-language-server: $schema=` line names */
  schema: string
}

export async function initInventory(opts: InitOptions): Promise<InitResult> {
  if (existsSync(opts.file) && !opts.force) {
    throw inputError(`${opts.file} already exists; not overwriting it`, ['pass --force to overwrite it', 'or -c/--config OTHER.yaml to write elsewhere'], 'EXISTS')
  }
  let answers = opts.answers ?? (opts.example ? EXAMPLE_ANSWERS : undefined)
  if (!answers) {
    if (!canPrompt()) {
      throw inputError('obsctl init asks questions, and there is no terminal (or CI is set)', ['pass --example to write the example lab, then edit it', 'or run obsctl init in a terminal'], 'NO_TTY')
    }
    answers = await askAnswers()
  }
  const text = renderInventoryYaml(answers)
  // what we write must load and pass lint
  const inv = parseInventory(text, opts.file)
  const report = lintInventory(inv)
  if (report.errors > 0) {
    const first = report.findings.find((f) => f.severity === 'error')!
    throw inputError(`the answers do not make a valid inventory: ${first.path}: ${first.message}`, [first.fix], 'INIT_INVALID', report)
  }
  await writeFileAtomic(opts.file, text, {mode: 0o644})
  const schema = path.join(ensurePrivateDir(path.join(path.dirname(path.resolve(opts.file)), OBSCTL_DIR_NAME)), 'schema.json')
  await writeFileAtomic(schema, `${JSON.stringify(jsonSchema(), null, 2)}\n`, {mode: 0o644})
  return {
    schema,
    file: opts.file,
    clusters: answers.clusters.length,
    nodes: answers.clusters.reduce((a, c) => a + c.hosts.length, 0),
    example: Boolean(opts.example),
  }
}

const IP_OR_HOST = /^[A-Za-z0-9.:_-]+$/

async function askAnswers(): Promise<InitAnswers> {
  const ask = prompter(['--example (the example lab) or write obsctl.yaml yourself'])
  const input = ask.input.bind(ask)
  const select = ask.select.bind(ask)
  const number = ask.number.bind(ask)
  const required = (v: string) => (v.trim() ? true : 'required')
  const domain = await input({message: 'Base domain (services are <service>.k8s-cluster-<id>.<domain>)', default: 'example.lab', validate: required})
  const sshUser = await input({message: 'SSH user on the nodes', default: 'ubuntu', validate: required})
  const identityFile = await input({message: 'SSH private key (empty: use ssh-agent)', default: '~/.ssh/id_ed25519'})
  const s3Endpoint = await input({message: 'S3 (MinIO) endpoint URL', default: `https://s3.${domain}`, validate: (v) => (/^https?:\/\//.test(v) ? true : 'an http(s):// URL')})
  const gitRemote = await input({message: 'GitOps repository remote (Argo CD pulls it)', validate: required})
  const profile = await select({message: 'Sizing profile', choices: [{name: 'lab (4-core/16 GB machines)', value: 'lab' as const}, {name: 'production (larger machines: bigger requests and heaps)', value: 'production' as const}]})
  const count = (await number({message: 'How many clusters (one central + edges)?', default: 4, min: 1, max: 999})) ?? 4
  const clusters: InitCluster[] = []
  for (let i = 0; i < count; i++) {
    const id = String(i + 1).padStart(2, '0')
    const role = i === 0 ? 'central' : 'edge'
    const name = await input({message: `Cluster ${i + 1} name (${role})`, default: `cluster-${id}`, validate: required})
    const hostsRaw = await input({message: `${name}: node addresses, comma-separated (first = control plane)`, validate: (v) => (v.split(',').every((h) => IP_OR_HOST.test(h.trim())) ? true : 'host names or IPs, comma-separated')})
    const metrics = role === 'edge'
      ? await select({message: `${name}: metrics`, choices: [{name: 'remote-scrape (central scrapes through the API server)', value: 'remote-scrape' as const}, {name: 'agent (Prometheus Agent remote-writes)', value: 'agent' as const}]})
      : undefined
    const cpu = await input({message: `${name}: CPU per node`, default: '4'})
    const memory = await input({message: `${name}: memory per node`, default: '16Gi'})
    clusters.push({name, id, role, metrics, hosts: hostsRaw.split(',').map((h) => h.trim()), cpu, memory})
  }
  return {domain, sshUser, identityFile: identityFile || undefined, s3Endpoint, gitRemote, profile, clusters}
}
