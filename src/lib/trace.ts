/**
 * Request traces (`--verbose`): one line per outbound request as it completes, on stderr only (so
 * `--json` stdout stays parseable), e.g.
 *   trace: GET https://127.0.0.1:6443/api/v1/nodes → 200 (12 ms)
 *   trace: ssh root@10.0.0.5 exec 'kubeadm version -o short' → exit 0 (230 ms)
 *   trace: s3 HEAD https://s3.lab:9000/thanos → 200 (8 ms)
 * Each network path records here once: the Kubernetes client (platform/kube.ts), the HTTP client of the
 * platform's services (platform/http.ts), S3 (platform/s3.ts), SSH (ssh/connection.ts), git's remote
 * commands (gitops/git.ts), the Argo CD manifest download (argocd/manifest.ts) and doctor's DNS lookups, TCP and
 * clock probes (doctor/network.ts). Every line
 * goes through redactText (config/validators.ts: URL credentials, tokens, secret query parameters and
 * assignments, secret env values); headers and bodies are never traced.
 *
 * A process-level sink that BaseCommand sets under --verbose. Off, it costs one check per request: this
 * module imports nothing, and the redactor is loaded only when traces are turned on.
 */

export type TraceSink = (line: string) => void

let sink: TraceSink | undefined
let redact: (text: string) => string = (t) => t

/** Turn traces on: every finished request is written to `write` (default: a line on stderr), redacted. */
export async function enableTraces(write: TraceSink = (line) => void process.stderr.write(`${line}\n`)): Promise<void> {
  const {redactText} = await import('./config/validators.js')
  redact = (t) => redactText(t)
  sink = write
}

/** Turn traces off (tests). */
export function disableTraces(): void {
  sink = undefined
}

/** Whether traces are on: a network path wraps its requests only then. */
export function tracing(): boolean {
  return sink !== undefined
}

/** A start time for trace(). */
export function traceStart(): number {
  return performance.now()
}

/** Record one finished request: `trace: <what> → <outcome> (N ms)`, redacted. */
export function trace(what: string, outcome: string, startedAt: number): void {
  if (!sink) return
  sink(redact(`trace: ${what} → ${outcome} (${Math.round(performance.now() - startedAt)} ms)`))
}

/** How a failed request ends in a trace: its error code (ECONNREFUSED, an S3 code…), else the first line of its message. */
export function traceError(error: unknown): string {
  for (let e = error as {code?: unknown; cause?: unknown} | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && e.code) return `error ${e.code}`
  }
  const message = error instanceof Error ? error.message : String(error)
  const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : ''
  return `error: ${name}${message.split('\n')[0]!.slice(0, 160)}`
}

/** Run one request and trace it: `outcome` of its result, or traceError of what it threw. Without traces, just runs it. */
export async function traced<T>(what: string, request: () => Promise<T>, outcome: (result: T) => string): Promise<T> {
  if (!sink) return request()
  const t0 = traceStart()
  try {
    const result = await request()
    trace(what, outcome(result), t0)
    return result
  } catch (error) {
    trace(what, traceError(error), t0)
    throw error
  }
}

/** A command line as one short trace field: whitespace folded, at most `max` characters, single-quoted. */
export function traceCommand(command: string, max = 160): string {
  const one = command.replace(/\s+/g, ' ').trim()
  return `'${one.length > max ? `${one.slice(0, max - 1)}…` : one}'`
}
