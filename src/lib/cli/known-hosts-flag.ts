/** `--known-hosts` for the commands that reach nodes over SSH; read as src/lib/config/files.ts knownHostsPath says. */
import * as Flags from '@oclif/core/flags'

export const knownHostsFlag = () =>
  Flags.string({
    summary: "known_hosts file for the nodes; a relative path is the working directory's (else the inventory's ssh.knownHosts, else .obsctl/known_hosts).",
  })
