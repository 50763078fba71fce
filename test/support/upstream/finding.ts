/** What a check of the rendered repository against upstream reports. */
export interface Finding {
  /** the rendered file, relative to the repository root */
  file: string
  /** `Kind/name` of the object, or the values block (`helm values longhorn`) */
  object: string
  /** field path inside the object (`spec.blocks[0].start`, `defaultSettings.defaultReplicaCount`) */
  path: string
  message: string
  /** the upstream fact it was checked against, e.g. `crds.json.gz: longhorn.io/v1beta2/RecurringJob` */
  source: string
}

export const formatFinding = (f: Finding): string => `${f.file}: ${f.object} ${f.path || '(object)'}: ${f.message} [${f.source}]`

/** Collects findings for one object, with the file/object/source filled in. */
export class Findings {
  readonly list: Finding[] = []
  add(f: Finding): void {
    this.list.push(f)
  }
  scoped(file: string, object: string, source: string): (path: string, message: string) => void {
    return (p, message) => this.list.push({file, object, path: p, message, source})
  }
}

/** JSON path segments → `a.b[0].c` */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  const k = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key)
  return base ? `${base}.${k}` : k
}
