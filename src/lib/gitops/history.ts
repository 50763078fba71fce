/**
 * obsctl's history in the GitOps working copy: the first-parent `git log` with each commit's trailers
 * (trailers.ts), telling obsctl's commits (and the command that made them) from everyone else's.
 */
import {must} from './git.js'
import {TRAILER, parseTrailers} from './trailers.js'

export interface CommitInfo {
  sha: string
  subject: string
  author: string
  date: string
  /** the Obsctl-Command trailer, or a subject that obsctl writes (commits from before the trailers) */
  command?: string
  obsctl: boolean
}

const SEP = '\u001f'
const END = '\u001e'

export interface LogEntry extends CommitInfo {
  parents: string[]
  trailers: Record<string, string[]>
}

/** The first-parent history from `tip` (newest first), with each commit's trailers. */
export async function history(dir: string, tip: string, stop?: string, max = 500): Promise<LogEntry[]> {
  const range = stop ? [`${stop}..${tip}`] : [tip]
  const out = await must(
    dir,
    ['log', '--first-parent', `--max-count=${max}`, `--format=%H${SEP}%P${SEP}%an <%ae>${SEP}%aI${SEP}%s${SEP}%(trailers:only,unfold)${END}`, ...range, '--'],
    'git log',
  )
  return out
    .split(END)
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r.trim())
    .map((r) => {
      const [sha, parents, author, date, subject, trailerText] = r.split(SEP) as [string, string, string, string, string, string]
      const trailers = parseTrailers(trailerText ?? '')
      const cmd = trailers[TRAILER.command]?.[0]
      // commits obsctl made before it wrote trailers are known by the subjects it writes
      const legacy = /^obsctl(?: render)?: /.test(subject)
      const ps = parents.split(' ').filter(Boolean)
      return {
        sha,
        parents: ps,
        author,
        date,
        subject,
        trailers,
        command: cmd ?? (legacy ? 'render' : undefined),
        obsctl: ps.length <= 1 && (cmd !== undefined || legacy),
      }
    })
}

export const info = (e: LogEntry): CommitInfo => ({sha: e.sha, subject: e.subject, author: e.author, date: e.date, command: e.command, obsctl: e.obsctl})
