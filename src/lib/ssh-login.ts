/**
 * How a node's SSH login is written, below every layer (no dependency): the known_hosts host name, and the one name
 * for a node that obsctl prints — dry runs and `obsctl plan`, progress, errors, request traces.
 */

/** The host name OpenSSH writes and matches: `host` for port 22, else `[host]:port`. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/**
 * A node's SSH login as every message names it: `bsh@192.168.101.194`, `bsh@[10.0.0.5]:2222` off port 22. Dry runs
 * said `ssh 192.168.101.194`, the install `ssh bsh@192.168.101.194` and the kubeconfig step `bsh@192.168.101.194:22`.
 */
export function sshLogin(t: {user: string; host: string; port: number}): string {
  return `${t.user}@${hostPattern(t.host, t.port)}`
}
