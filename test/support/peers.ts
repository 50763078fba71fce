/** System peers of the integration tests: which Debian package provides each command. */
import {execFileSync, spawnSync} from 'node:child_process'

export const PEERS: Record<string, string> = {
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  prometheus: 'prometheus',
  // `promtool check rules` on the rendered repository (test/upstream)
  promtool: 'prometheus',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  git: 'git',
  shellcheck: 'shellcheck',
  // the node sandbox (test/support/sshd.ts): mount namespaces for each sshd
  unshare: 'util-linux',
  nsenter: 'util-linux',
  // the loopback of a network namespace of its own, brought up (test/cli/json-contract.test.ts)
  ip: 'iproute2',
  kubectl: 'kubernetes-client',
  // the independent check of the platform CA and TLS certificates obsctl makes (test/kube/pki.test.ts), and
  // the TLS of the test peers (test/support/kube/tls.ts)
  openssl: 'openssl',
  // terminal tests: a real pty (`script`), tmux driven by keystrokes, the pager, the shells' completion
  script: 'util-linux',
  tmux: 'tmux',
  less: 'less',
  fish: 'fish',
  zsh: 'zsh',
  // amtool check-config / config routes test on the rendered Alertmanager configuration (test/alerts, test/upstream)
  amtool: 'prometheus-alertmanager',
  // the real Alertmanager of test/support/alertmanager.ts (obsctl alerts, validate alertmanager.*)
  'prometheus-alertmanager': 'prometheus-alertmanager',
}

export function which(cmd: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')]) {
    const r = spawnSync('test', ['-x', `${dir}/${cmd}`])
    if (r.status === 0) return `${dir}/${cmd}`
  }
  return undefined
}

export async function ensureSystemPeers(): Promise<void> {
  const missing = Object.entries(PEERS).filter(([cmd]) => !which(cmd))
  if (missing.length === 0) return
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))]
  if (process.getuid?.() === 0 && which('apt-get')) {
    execFileSync('apt-get', ['update', '-qq'], {stdio: 'inherit'})
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit',
      env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
    })
    const still = Object.entries(PEERS).filter(([cmd]) => !which(cmd))
    if (still.length === 0) return
    throw new Error(`test peers still missing after apt-get install: ${still.map(([c, p]) => `${c} (${p})`).join(', ')}`)
  }
  throw new Error(`test peers missing: ${missing.map(([c, p]) => `${c} (Debian package ${p})`).join(', ')}; install them: apt-get install ${pkgs.join(' ')}`)
}
