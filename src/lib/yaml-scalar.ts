/**
 * One string as a YAML scalar of type string, for text that prints YAML (the GitOps templates, the inventory
 * `obsctl init` writes): a leaf of its own (config/ and gitops/ both use it).
 */
import {contentMemo} from './derived-cache.js'
import {yaml} from './lazy-deps.js'

/**
 * plain ('1') or not ('0'), per value, for the process and between runs: a fleet's names are few, and the YAML reading
 * is not free (nor is loading the YAML library, ~6 ms of `obsctl init`'s start-up)
 */
const plainScalars = contentMemo('yaml-plain-scalars')

/**
 * A string as one YAML scalar of type string: as it is when YAML 1.1 (kubectl, kustomize and Argo CD read manifests
 * with go-yaml through sigs.k8s.io/yaml) and YAML 1.2 both read it back as that string (`cluster-01`: the bytes
 * rendered before), else double-quoted. Cluster names are DNS labels, and `on`, `no`, `y`, `123`, `0x1f`, `1e3`,
 * `null` or `2024-01-02` are bools, numbers, a null or a timestamp to YAML; an IPv6 address `[fd00::1]:6443` is a
 * flow sequence. For the values the templates print whole (`cluster: <%= it.y(c.name) %>`, `name: ${yamlScalar(name)}`).
 */
export function yamlScalar(v: string): string {
  // a letter, then letters and digits in parts joined by '-': no YAML type but string starts with a letter and holds '-'
  if (/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(v)) return v
  const back = (version: '1.1' | '1.2') => {
    try {
      return (yaml().parse(`v: ${v}\n`, {version}) as {v?: unknown} | null)?.v
    } catch {
      return undefined
    }
  }
  const plain = plainScalars(v, () => (v !== '' && back('1.1') === v && back('1.2') === v ? '1' : '0')) === '1'
  return plain ? v : JSON.stringify(v)
}
