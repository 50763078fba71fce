/** admin.conf read over SSH as root (sudo); its contents never reach a log. */
import {ObsctlError} from '../../errors.js'
import {ADMIN_CONF_PATH, parseAdminConf, type AdminConf} from './parse.js'

/** What the SSH side needs: a connection that can run a command as root. */
export interface RootExec {
  label: string
  sudo(command: string, o?: {log?: (line: string) => void}): Promise<{code: number | null; stdout: string; stderr: string}>
}

/** Read /etc/kubernetes/admin.conf as root; its contents never reach a log. */
export async function readAdminConfOverSsh(conn: RootExec, clusterName: string): Promise<AdminConf> {
  // no `log`: the output holds the admin's private key
  const r = await conn.sudo(`cat ${ADMIN_CONF_PATH}`)
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() || `exit code ${r.code}`
    const missing = /No such file/i.test(r.stderr)
    throw new ObsctlError(`cannot read ${ADMIN_CONF_PATH} on ${conn.label} (cluster ${clusterName}): ${why}`, {
      code: missing ? 'ADMIN_CONF_MISSING' : 'ADMIN_CONF_READ',
      hints: missing
        ? [`kubeadm init writes it: run obsctl node install ${clusterName} first`, `or pass --from-file ${clusterName}=PATH with a copy you already have`]
        : [`check that ${conn.label} can run sudo cat ${ADMIN_CONF_PATH}`, `or pass --from-file ${clusterName}=PATH`],
    })
  }
  return parseAdminConf(r.stdout, `ssh ${conn.label}:${ADMIN_CONF_PATH}`)
}
