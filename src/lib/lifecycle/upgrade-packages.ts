/**
 * The node side of `upgrade kubernetes` (./upgrade.ts): commands run as root over SSH, the package
 * manager, the Kubernetes package repository of a minor (pkgs.k8s.io or ssh.aptMirror) and the
 * kubeadm/kubelet/kubectl packages at an exact release.
 */
import type {Platform} from '../config/schema.js'
import type {TaskIO} from '../engine/types.js'
import {ObsctlError} from '../errors.js'
import type {SshConnection} from '../ssh/connection.js'
import {APT_FUNCTIONS} from '../nodes/apt.js'
import {rootStep} from '../nodes/lock.js'
import {shQuote} from '../shell-quote.js'
import {formatVersion, minorOf, parseVersion, type Version} from './versions.js'

/** The package repository of a minor: pkgs.k8s.io, or ssh.aptMirror (same layout). */
export function packageBaseFor(p: Platform, minor: string): string {
  return `${(p.ssh.aptMirror ?? 'https://pkgs.k8s.io').replace(/\/+$/, '')}/core:/stable:/v${minor}`
}

/** The proxy the install script uses, for commands run on the node. */
export function proxyEnv(p: Platform): string {
  const x = p.ssh.proxy
  if (!x) return ''
  const https = x.https ?? x.http
  const parts = [
    x.http && `http_proxy=${shQuote(x.http)} HTTP_PROXY=${shQuote(x.http)}`,
    https && `https_proxy=${shQuote(https)} HTTPS_PROXY=${shQuote(https)}`,
    x.noProxy && `no_proxy=${shQuote(x.noProxy)} NO_PROXY=${shQuote(x.noProxy)}`,
  ]
  return `export ${parts.filter(Boolean).join(' ')}; `
}

/** An upgrade's root step on a node (../nodes/lock.ts rootStep), its error pointing at the task log and the rerun. */
export function root(conn: SshConnection, step: string, command: string, io: TaskIO, code = 'UPGRADE_STEP'): Promise<string> {
  return rootStep(conn, command, step, {
    log: io.log,
    signal: io.signal,
    code,
    hints: [`full output: ${io.logFile}`, 'fix the cause and rerun: finished nodes and steps are skipped'],
  })
}

export async function packageManager(conn: SshConnection): Promise<'apt' | 'dnf'> {
  const r = await conn.exec('command -v apt-get >/dev/null 2>&1 && echo apt || { command -v dnf >/dev/null 2>&1 && echo dnf; }')
  const pm = r.stdout.trim()
  if (pm !== 'apt' && pm !== 'dnf') throw new ObsctlError(`${conn.label}: neither apt-get nor dnf found`, {code: 'UPGRADE_STEP'})
  return pm
}

/** Point the node's Kubernetes repository at the target minor (the repositories of pkgs.k8s.io are per minor). */
export async function switchRepository(conn: SshConnection, p: Platform, pm: 'apt' | 'dnf', minor: string, io: TaskIO): Promise<void> {
  const base = packageBaseFor(p, minor)
  const script =
    pm === 'apt'
      ? `set -eo pipefail; ${proxyEnv(p)}
${APT_FUNCTIONS}
want=${shQuote(`deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${base}/deb/ /`)}
if [ "$(cat /etc/apt/sources.list.d/kubernetes.list 2>/dev/null)" != "$want" ]; then
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL ${shQuote(`${base}/deb/Release.key`)} | gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  printf '%s\\n' "$want" >/etc/apt/sources.list.d/kubernetes.list
  printf '%s\\n' ${shQuote(`repository: ${base}`)}
fi
apt_update`
      : `set -eo pipefail; cat >/etc/yum.repos.d/kubernetes.repo <<'EOF'
[kubernetes]
name=Kubernetes ${minor}
baseurl=${base}/rpm/
enabled=1
gpgcheck=1
gpgkey=${base}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
EOF
printf '%s\\n' ${shQuote(`repository: ${base}`)}`
  await root(conn, `switching the Kubernetes package repository to ${minor}`, script, io, 'UPGRADE_REPOSITORY')
}

/** The package version of `version` in the node's repository (its newest patch for a minor-only target). */
export async function resolvePackage(conn: SshConnection, pm: 'apt' | 'dnf', target: Version, io: TaskIO): Promise<{version: string; pin: string}> {
  const want = formatVersion(target)
  if (pm === 'dnf') {
    if (target.patch === undefined) {
      const out = await root(
        conn,
        'listing kubeadm versions',
        `dnf list --showduplicates -q --disableexcludes=kubernetes kubeadm | awk '{print $2}' | grep '^${minorOf(target)}\\.' | sort -V | tail -1`,
        io,
      )
      const v = parseVersion(out.trim())
      if (!v?.patch && v?.patch !== 0) throw new ObsctlError(`no kubeadm ${want} in the repository of ${conn.label}`, {code: 'UPGRADE_PACKAGE'})
      return {version: formatVersion(v), pin: out.trim()}
    }
    return {version: want, pin: want}
  }
  const out = await root(
    conn,
    'apt-cache madison kubeadm',
    `apt-cache madison kubeadm | awk -v v=${shQuote(want)} '{ if (index($3, v ".") == 1 || index($3, v "-") == 1) { print $3; exit } }'`,
    io,
  )
  const pin = out.trim()
  const v = parseVersion(pin)
  if (!pin || !v || v.patch === undefined)
    throw new ObsctlError(`no kubeadm ${want} in the package repository of ${conn.label} (apt-cache madison kubeadm)`, {
      code: 'UPGRADE_PACKAGE',
      hints: ['check the version exists on pkgs.k8s.io (or ssh.aptMirror)'],
    })
  return {version: formatVersion(v), pin}
}

export async function installedVersion(conn: SshConnection, what: 'kubeadm' | 'kubelet'): Promise<string | undefined> {
  const r = await conn.exec(what === 'kubeadm' ? 'kubeadm version -o short 2>/dev/null' : 'kubelet --version 2>/dev/null')
  return /v\d+\.\d+\.\d+/.exec(r.stdout)?.[0]
}

export async function installPackages(conn: SshConnection, pm: 'apt' | 'dnf', pkgs: string[], pin: string, io: TaskIO): Promise<void> {
  const names = pkgs.join(' ')
  const cmd =
    pm === 'apt'
      ? `set -e
${APT_FUNCTIONS}
apt-mark unhold ${names} >/dev/null; apt_install --allow-change-held-packages ${pkgs.map((p) => `${p}=${pin}`).join(' ')}; apt-mark hold ${names}`
      : `dnf install -y -q --disableexcludes=kubernetes ${pkgs.map((p) => `${p}-${pin}*`).join(' ')}`
  await root(conn, `installing ${names} ${pin}`, cmd, io, 'UPGRADE_PACKAGE')
}

/**
 * Packages already at the version: held again on apt (an install stopped between its `apt-mark unhold` and
 * `apt-mark hold`, by a kill of the run, can leave them installed but free for an unattended upgrade). On
 * dnf the repository's `exclude=` line is what keeps them, and it is never removed.
 */
export async function holdPackages(conn: SshConnection, pm: 'apt' | 'dnf', pkgs: string[], io: TaskIO): Promise<void> {
  if (pm !== 'apt') return
  await root(conn, `holding ${pkgs.join(' ')}`, `apt-mark hold ${pkgs.join(' ')} >/dev/null`, io, 'UPGRADE_PACKAGE')
}
