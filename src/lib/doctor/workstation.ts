/**
 * Doctor's offline checks: Node, the tool obsctl runs (git), the SSH identity, and every
 * credential env var the inventory names (reported as set or not set, never its value).
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {receiverSecrets} from '../config/alerting.js'
import type {LoadedInventory} from '../config/load.js'
import {errorMessage} from '../errors.js'
import {fail, pass, warn} from '../checks/model.js'
import {semverMinVersion, semverSatisfies} from '../lazy-deps.js'
import {PACKAGE_ROOT} from '../package-root.js'
import {ENV_KEY_PASSPHRASE, ENV_SSH_PASSWORD, expandHome} from '../ssh/pool.js'
import type {DoctorCheck} from './types.js'
import {envFix, envValueProblem} from '../env.js'

/** A secret env var set to a value obsctl refuses (blank, a line end): the doctor says so before a run does. */
function envProblem(env: NodeJS.ProcessEnv, name: string) {
  const v = env[name]
  const problem = v ? envValueProblem(name, v, {secret: true}) : undefined
  return problem && fail(problem, envFix(name))
}

const SSH_PHASES = ['preflight', 'nodes', 'kubeconfig'] as const

// ---------- workstation ----------

/** The Node.js versions obsctl runs on: package.json's `engines.node`, the range npm checks at install. */
export function nodeRange(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {engines?: {node?: string}}).engines?.node ?? '^20.16 || >=22'
}

export const nodeCheck: DoctorCheck = {
  id: 'node',
  title: 'Node.js version',
  group: 'workstation',
  tier: 'offline',
  async run() {
    const range = nodeRange()
    const have = process.versions.node
    if (semverSatisfies()(have, range)) return pass(`Node.js ${have} (needs ${range})`)
    const oldest = semverMinVersion()(range)?.version ?? range
    return fail(
      `Node.js ${have} is not one obsctl runs on (needs ${range})`,
      `install Node.js ${oldest} or a newer release that ${range} admits (e.g. from nodejs.org or nvm)`,
    )
  },
}

/** Run a tool with a version flag; a missing program is {missing}, never an exception. */
async function toolVersion(cmd: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<{out: string; code: number} | {missing: string}> {
  const {execa} = await import('execa')
  const clean = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
  const r = await execa(cmd, args, {reject: false, stdin: 'ignore', env: {...clean, LC_ALL: 'C'}, extendEnv: false, cancelSignal: signal})
  if (r.failed && r.exitCode === undefined)
    return {missing: r.code === 'ENOENT' ? `${cmd} is not on PATH` : (r.shortMessage ?? r.message ?? `cannot run ${cmd}`)}
  return {out: `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim(), code: r.exitCode ?? 1}
}

export const gitCheck: DoctorCheck = {
  id: 'tools.git',
  title: 'git',
  group: 'workstation',
  tier: 'offline',
  neededBy: ['render', 'root-app', 'argocd-refresh'],
  async run(ctx, signal) {
    const r = await toolVersion('git', ['--version'], ctx.env, signal)
    const hint = 'install git (apt-get install git, brew install git): obsctl commits and pushes the GitOps repository with it'
    if ('missing' in r) return fail(r.missing, hint)
    const v = /git version (\d+\.\d+(?:\.\d+)?)/.exec(r.out)?.[1]
    if (r.code !== 0 || !v) return fail(`git --version exited ${r.code}: ${r.out.split('\n')[0] ?? ''}`, hint)
    return pass(`git ${v}`)
  },
}

async function agentKeys(sock: string): Promise<number> {
  const {OpenSSHAgent} = await import('../ssh/ssh2.js')
  return new Promise((resolve, reject) => new OpenSSHAgent(sock).getIdentities((err, keys) => (err ? reject(err) : resolve(keys?.length ?? 0))))
}

export const sshCheck: DoctorCheck = {
  id: 'ssh.identity',
  title: 'SSH identity (key file, agent or password)',
  group: 'workstation',
  tier: 'offline',
  neededBy: SSH_PHASES,
  async run(ctx) {
    const ssh = ctx.inv.platform.ssh
    if (ssh.identityFile) {
      const file = path.resolve(ctx.inv.dir, expandHome(ssh.identityFile))
      if (!existsSync(file))
        return fail(`ssh.identityFile ${file} does not exist`, 'fix ssh.identityFile in the inventory (obsctl config set ssh.identityFile PATH)')
      let text: Buffer
      try {
        if (!statSync(file).isFile()) return fail(`ssh.identityFile ${file} is not a file`, 'point ssh.identityFile at the private key file')
        text = readFileSync(file)
      } catch (e) {
        return fail(`cannot read ssh.identityFile ${file}: ${errorMessage(e)}`, 'make the key readable by this user (chmod 600)')
      }
      const {utils} = await import('../ssh/ssh2.js')
      const parsed = utils.parseKey(text)
      if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
        const bad = envProblem(ctx.env, ENV_KEY_PASSPHRASE)
        if (bad) return bad
        if (ctx.env[ENV_KEY_PASSPHRASE]) return pass(`${file} (passphrase from $${ENV_KEY_PASSPHRASE})`)
        return ctx.canPrompt
          ? warn(
              `${file} is passphrase-protected; obsctl will ask for the passphrase`,
              `for automation: ${ENV_KEY_PASSPHRASE}, or load the key into ssh-agent and leave identityFile unset`,
            )
          : fail(
              `${file} is passphrase-protected and $${ENV_KEY_PASSPHRASE} is not set (no terminal to ask on)`,
              `export ${ENV_KEY_PASSPHRASE}=…, or load the key into ssh-agent and leave identityFile unset`,
            )
      }
      if (parsed instanceof Error)
        return fail(`${file} is not a private key obsctl can read: ${parsed.message}`, 'use an OpenSSH/PEM private key (ed25519, ecdsa or rsa)')
      return pass(`key file ${file}`)
    }
    const sock = ssh.agent ? ctx.env.SSH_AUTH_SOCK : undefined
    if (sock) {
      try {
        const n = await agentKeys(sock)
        if (n > 0) return pass(`ssh-agent at $SSH_AUTH_SOCK holds ${n} key(s)`)
        return fail('the ssh-agent at $SSH_AUTH_SOCK holds no key', 'ssh-add ~/.ssh/id_ed25519 (or set ssh.identityFile)')
      } catch (e) {
        return fail(
          `cannot list the keys of the ssh-agent at $SSH_AUTH_SOCK: ${errorMessage(e)}`,
          'start an agent (eval $(ssh-agent); ssh-add) or set ssh.identityFile',
        )
      }
    }
    const bad = envProblem(ctx.env, ENV_SSH_PASSWORD)
    if (bad) return bad
    if (ctx.env[ENV_SSH_PASSWORD]) return pass(`password login (from $${ENV_SSH_PASSWORD})`)
    const why = ssh.agent ? 'no ssh.identityFile, $SSH_AUTH_SOCK is not set' : 'no ssh.identityFile and ssh.agent: false'
    return ctx.canPrompt
      ? warn(`${why}: obsctl will ask for an SSH password`, 'set ssh.identityFile, or start an ssh-agent with the key loaded')
      : fail(
          `${why}, and $${ENV_SSH_PASSWORD} is not set (no terminal to ask on)`,
          `set ssh.identityFile, start an ssh-agent (SSH_AUTH_SOCK), or export ${ENV_SSH_PASSWORD}=…`,
        )
  },
}

// ---------- credentials ----------

interface NamedEnv {
  env: string
  /** the inventory field that names it */
  field: string
  phases: readonly string[]
  /** obsctl asks for it on a terminal when it is not set */
  prompted: boolean
  use: string
}

/** Every env var the inventory names for a credential (deduplicated by name). */
export function namedEnvVars(inv: LoadedInventory): NamedEnv[] {
  const p = inv.platform
  const out: NamedEnv[] = [
    {
      env: p.s3.accessKeyEnv,
      field: 's3.accessKeyEnv',
      phases: ['buckets', 'secrets'],
      prompted: true,
      use: 'the S3 access key (buckets, Thanos and OpenSearch snapshot credentials)',
    },
    {env: p.s3.secretKeyEnv, field: 's3.secretKeyEnv', phases: ['buckets', 'secrets'], prompted: true, use: 'the S3 secret key'},
  ]
  if (p.git.private && p.git.tokenEnv && /^https?:\/\//.test(p.git.remote))
    out.push({
      env: p.git.tokenEnv,
      field: 'git.tokenEnv',
      phases: ['root-app'],
      prompted: false,
      use: 'the read token Argo CD pulls the private GitOps repository with',
    })
  for (const r of receiverSecrets(p.alerting))
    out.push({
      env: r.env,
      field: `alerting receiver ${r.receiver} ${r.field}`,
      phases: ['secrets'],
      prompted: false,
      use: `the ${r.kind} receiver ${r.receiver}'s secret`,
    })
  const seen = new Map<string, NamedEnv>()
  for (const e of out) {
    const prev = seen.get(e.env)
    if (prev)
      seen.set(e.env, {...prev, field: `${prev.field}, ${e.field}`, phases: [...new Set([...prev.phases, ...e.phases])], prompted: prev.prompted && e.prompted})
    else seen.set(e.env, e)
  }
  return [...seen.values()]
}

export function envCheck(e: NamedEnv): DoctorCheck {
  return {
    id: `env.${e.env}`,
    title: `$${e.env} (${e.field})`,
    group: 'credentials',
    tier: 'offline',
    neededBy: e.phases,
    async run(ctx) {
      const bad = envProblem(ctx.env, e.env)
      if (bad) return bad
      if (ctx.env[e.env]) return pass(`set (${e.use})`)
      if (e.prompted && ctx.canPrompt) return warn(`$${e.env} is not set: obsctl will ask for ${e.use}`, `for automation: export ${e.env}=…`)
      return fail(`$${e.env} is not set: ${e.use}${e.prompted ? ' (no terminal to ask on)' : ''}`, `export ${e.env}=… (named by ${e.field} in ${ctx.inv.file})`)
    },
  }
}
