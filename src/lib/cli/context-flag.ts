/** `--context` for the commands that target one cluster (see src/lib/kube/context.ts). */
import * as Flags from '@oclif/core/flags'

export const contextFlag = (what: string) =>
  Flags.string({summary: `Kubeconfig context to reach ${what} through (else the inventory's clusters[].context, else <cluster>-context).`})
