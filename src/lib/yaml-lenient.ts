/**
 * A text's YAML value, or undefined when the text is not YAML: for files read best-effort, where another step reports
 * a broken one (a node's static pod manifest, the files of a kubeconfig chain, a kubeconfig's values to mask).
 */
import {yaml} from './lazy-deps.js'

export function yamlOrUndefined(text: string): unknown {
  try {
    return yaml().parse(text) as unknown
  } catch {
    return undefined
  }
}
