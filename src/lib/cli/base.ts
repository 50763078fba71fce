/**
 * Base class of every obsctl command: the global flags of DESIGN.md §2, inventory loading and the
 * one error renderer (human: message + "try this" lines on stderr; --json: the error object on stdout).
 */
import {writeSync} from 'node:fs'
import {Command} from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'
import type {Interfaces} from '@oclif/core'
import {declinedError, ExitCode, fromFsError, inputError, isPromptExit, ObsctlError, isObsctlError, promptInterruptedError} from '../errors.js'
import {resolve as resolvePath} from 'node:path'
import {inventorySource, loadInventory, resolveInventoryPath, type InventorySource, type LoadedInventory} from '../config/load.js'
import {refuseInvalidInventory} from '../config/refuse-invalid.js'
import {prompter, usePrompter} from '../prompt.js'
import {terminalPrompter} from './terminal-prompter.js'
import {requestedOutput} from './output-format.js'
import {page, pagerFor} from './pager.js'
import {colorize, hasDiff} from '../style.js'
import {isTerminal, stderrView, writeStd} from '../stdio.js'
import {fitTerminal} from '../wrap.js'
import {yaml} from '../lazy-deps.js'
import {refuseBadFileFlags} from './file-flags.js'
import {pollCap} from '../poll.js'

/**
 * `-o json|yaml` for read commands, as kubectl users type it: the same result object as --json, printed as
 * JSON or YAML (add `output: outputFlag()` to a command's flags; BaseCommand does the rest).
 */
export const outputFlag = () => Flags.option({char: 'o', summary: 'Output format: json (the same as --json) or yaml.', options: ['json', 'yaml'] as const})()

/**
 * `--allow-overcommit`, one definition for every command that has it: the lint's capacity finding (requests above a
 * cluster's declared CPU/memory) becomes a warning. Its fix text names the flag, so a command whose lint counts
 * that finding as an error must have it (config validate, bootstrap, render, rollback, config set, cluster add,
 * upgrade chart, argocd install, argocd sync, cluster register).
 */
export const allowOvercommitFlag = () => Flags.boolean({summary: 'Treat requests above the declared capacity as a warning, not an error.'})

/** A token of oclif's parse (`raw`): a flag with its input, or an argument */
type ParsingToken = Interfaces.ParserOutput['raw'][number]

// oclif's parser output constraints (not exported by @oclif/core's package entry points)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FlagOutput = {[name: string]: any}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ArgOutput = {[name: string]: any}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  /** The flags of the last parse, for the checks loadInventory makes (./file-flags.ts). */
  private parsedFlags?: Record<string, unknown>

  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Inventory file (else $OBSCTL_CONFIG, else ./obsctl.yaml).',
      helpGroup: 'GLOBAL',
    }),
    kubeconfig: Flags.string({
      summary: 'Kubeconfig file (else $KUBECONFIG, else ~/.kube/config).',
      helpGroup: 'GLOBAL',
    }),
    yes: Flags.boolean({char: 'y', summary: 'Answer yes to confirmations (required without a TTY).', helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({summary: 'Print more detail on stderr: request traces, task logs on failure.', helpGroup: 'GLOBAL'}),
  }

  /**
   * Questions go through the prompt port (src/lib/prompt.ts); a command run from the CLI asks on the terminal.
   * --verbose turns request traces on (../trace.ts: one line per request on stderr, also with --json).
   */
  override async init(): Promise<void> {
    await super.init()
    refuseTlsVerificationOff()
    pollCap() // a bad OBSCTL_TEST_POLL_MS (test-only) is refused before anything runs
    usePrompter(terminalPrompter)
    if (this.argv.includes('--verbose')) await (await import('../trace.js')).enableTraces()
    process.on('SIGINT', this.onInterrupt)
    process.on('SIGTERM', this.onTerminate)
  }

  /**
   * A command that only reads (validate, doctor, plan …): Ctrl-C while it runs says it changed nothing.
   */
  static readOnly = false

  /** Ctrl-C came while the command ran (whoever handled it: this class, an engine run, render, node preflight …). */
  private sigintSeen = false

  /**
   * Ctrl-C in a command that has no handling of its own: said in words, exit 130, the cursor shown again (Node's
   * default was to end silently). An engine run, render and status --watch each listen for SIGINT themselves
   * and say where they stopped: then this one stays quiet.
   */
  private readonly onInterrupt = (): void => {
    this.sigintSeen = true
    if (process.listenerCount('SIGINT') > 1) return
    this.freshLineAfterCtrlC()
    this.stopInterrupted('Ctrl-C')
  }

  /**
   * SIGTERM (a service manager, a CI runner, `kill`) in a command that has no handling of its own: as Ctrl-C, exit
   * 130 with the same words, where Node's default ended the process silently with 143 (docs/inventory.md's exit
   * codes). An engine run and render listen for SIGTERM themselves and say where they stopped; so do the commands
   * that stop on Ctrl-C at a point of their own (status --watch, node preflight): those listen for SIGINT only, and a
   * SIGTERM ends them here.
   */
  private readonly onTerminate = (): void => {
    if (process.listenerCount('SIGTERM') > 1) return
    this.stopInterrupted('SIGTERM')
  }

  private stopInterrupted(by: 'Ctrl-C' | 'SIGTERM'): void {
    const cmd = `obsctl ${this.id?.replaceAll(':', ' ') ?? ''}`.trim()
    const readOnly = (this.ctor as {readOnly?: boolean}).readOnly === true
    const e = new ObsctlError(`interrupted by ${by} before \`${cmd}\` finished${readOnly ? ': it only reads, nothing was changed' : ''}`, {
      exitCode: ExitCode.interrupted,
      code: 'INTERRUPTED',
      hints: [readOnly ? 'run the same command again for its result' : 'run the same command again'],
    })
    void import('./error-output.js').then(({printError}) => printError(e, {json: this.jsonEnabled()})).finally(() => process.exit(ExitCode.interrupted))
  }

  /**
   * The terminal has echoed `^C` where the cursor was, after the last line obsctl wrote: the message that says where
   * the command stopped starts on the next line, not after `^C` (`^CError: interrupted …`). A terminal only: a pipe
   * or a file gets no echo, and --json is the error object alone.
   */
  private freshLineAfterCtrlC(): void {
    if (isTerminal(2) && !this.jsonEnabled()) writeSync(2, '\n')
  }

  protected inventoryPath(flag?: string): string {
    return resolveInventoryPath(flag)
  }

  /** The inventory file and what named it (-c, $OBSCTL_CONFIG or neither), for messages about it. */
  protected inventoryFile(flag?: string): {file: string; from?: InventorySource['from']} {
    const source = inventorySource(flag)
    return {file: resolvePath(source.value), from: source.from}
  }

  /**
   * The inventory; the flags that name a workstation file are checked against it first (./file-flags.ts). `load`
   * reads it (config set: one that also takes an invalid file its edit mends).
   */
  protected loadInventory(flag?: string, load: (file: string, from?: InventorySource['from']) => LoadedInventory = loadInventory): LoadedInventory {
    const {file, from} = this.inventoryFile(flag)
    const inv = load(file, from)
    refuseBadFileFlags(this.parsedFlags, inv.dir)
    return inv
  }

  /**
   * The inventory, refused as `config validate` refuses it (exit 2, `CONFIG_INVALID`, every error finding with its
   * file:line; ../config/lint.ts refuseLintErrors): commands that change remote systems from it call this first, so
   * the refusal comes before any connection (--dry-run too). `allowOvercommit`: the capacity finding is a warning —
   * the command's --allow-overcommit, or true for a command that puts no workload on the clusters.
   */
  protected async loadValidInventory(flag: string | undefined, o: {allowOvercommit?: boolean}): Promise<LoadedInventory> {
    const inv = this.loadInventory(flag)
    await refuseInvalidInventory(inv, o)
    return inv
  }

  /**
   * Print to stdout unless --json is on (the JSON result is printed by oclif from run()'s return value).
   * On a terminal, icons and diffs are coloured (../style.ts: NO_COLOR, FORCE_COLOR) and a diff taller
   * than the terminal goes through $PAGER (./pager.ts).
   */
  protected out(text: string): void {
    if (this.jsonEnabled()) return
    const shown = colorize(text.endsWith('\n') ? text : `${text}\n`)
    const pager = hasDiff(text) ? pagerFor(shown) : undefined
    if (pager && page(shown, pager)) return
    writeStd(1, shown)
  }

  /** Print to stderr (notices and progress); suppressed under --json. On a terminal fitted to its width (fitTerminal). */
  protected note(text: string): void {
    if (!this.jsonEnabled()) writeStd(2, fitTerminal(text.endsWith('\n') ? text : `${text}\n`, stderrView))
  }

  /** The engine renderer for this output mode: silent under --json, else auto (listr2 on a TTY, lines otherwise). */
  protected renderer(): 'silent' | 'auto' {
    return this.jsonEnabled() ? 'silent' : 'auto'
  }

  /**
   * A yes/no question (the libs ask only with a terminal and without --yes); no is the default.
   * No is an answer too: it ends the command with exit 1 ("declined; nothing was changed").
   */
  protected async confirm(message: string): Promise<boolean> {
    if (!(await prompter(['--yes']).confirm({message, default: false}))) throw declinedError('declined')
    return true
  }

  /**
   * oclif's parse, with every parse problem (bad value, missing value, a single-value flag given twice,
   * unknown flag, missing argument) turned into exit 2 naming the flag.
   *
   * An argument is only ever what the command line says: oclif takes a missing one from stdin when stdin is not a
   * terminal (`echo cluster-04 | obsctl cluster remove` removed cluster-04; `yes | obsctl cluster register`
   * registered a cluster named "y"), waiting up to 10 ms for it; every argument is parsed with `ignoreStdin` (withoutStdin).
   */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    let parsed: Interfaces.ParserOutput<F, B, A>
    try {
      parsed = await super.parse(withoutStdin(options), argv)
    } catch (error) {
      if (isObsctlError(error)) throw error
      const {usageError} = await import('./error-output.js')
      throw usageError(error as Error, this.id)
    }
    refuseEmptyValues(parsed.raw, {...options?.baseFlags, ...options?.flags}, options?.args ?? {}, this.id)
    this.parsedFlags = parsed.flags
    return parsed
  }

  /**
   * Was the flag given on the command line (not just its default)? For flags that only mean something with another
   * one (`--interval` with `--watch`): oclif's dependsOn counts a default as given, so such a pair is checked here.
   */
  protected requireWith(parsed: {raw: ParsingToken[]}, flag: string, needs: string, why: string): void {
    if (parsed.raw.some((t) => t.type === 'flag' && t.flag === flag) && !parsed.raw.some((t) => t.type === 'flag' && t.flag === needs))
      throw new ObsctlError(`--${flag} needs --${needs}: ${why}`, {
        exitCode: ExitCode.badInput,
        code: 'BAD_FLAGS',
        hints: [`add --${needs}, or leave --${flag} out`, `obsctl ${this.id?.replaceAll(':', ' ') ?? ''} --help`],
      })
  }

  /** The format `-o/--output` asks for (undefined: none, or the command has no such flag). */
  protected outputFormat(): 'json' | 'yaml' | undefined {
    if (!(this.ctor as {flags?: Record<string, unknown>}).flags?.output) return undefined
    return requestedOutput(this.argv)
  }

  /** --json, or `-o json|yaml`: the human view is replaced by the result object. */
  override jsonEnabled(): boolean {
    return super.jsonEnabled() || this.outputFormat() !== undefined
  }

  override logJson(json: unknown): void {
    if (this.outputFormat() === 'yaml' && !super.jsonEnabled()) process.stdout.write(yaml().stringify(json))
    else super.logJson(json)
  }

  /**
   * oclif's run, then under --verbose (human output only): the last lines of each failed task's log, on
   * stderr, when the result holds a run (bootstrap, node install, cluster add …).
   */
  protected override async _run<T>(): Promise<T> {
    try {
      const result = await super._run<T>()
      if (result !== undefined && this.argv.includes('--verbose') && !this.jsonEnabled()) await this.printFailureTails(result)
      return result
    } finally {
      process.removeListener('SIGINT', this.onInterrupt)
      process.removeListener('SIGTERM', this.onTerminate)
    }
  }

  private async printFailureTails(result: unknown): Promise<void> {
    const {runResultIn, failedTaskTails} = await import('../engine/show-logs.js')
    const run = runResultIn(result)
    const tails = run ? failedTaskTails(run) : []
    if (tails.length === 0) return
    const {formatFailureTails} = await import('./views/logs.js')
    writeStd(2, `\n${formatFailureTails(tails)}\n\n(all of the run's logs: obsctl logs --run ${run!.runId})\n`)
  }

  /** Set the exit code for a result that says "something failed" while still returning it (also with --json). */
  protected failWith(code: number = ExitCode.failed): void {
    process.exitCode = code
  }

  /**
   * The result object under --json (and -o json|yaml). A report that ends with a non-zero exit (failWith: checks or
   * tasks that failed, config validate's errors) says so itself, whichever command made it: `ok: false` and the
   * `exitCode`, as the error object has one (docs/output.md "--json"), so that `jq -e .ok` and the exit agree.
   */
  protected override toSuccessJson(result: unknown): unknown {
    const code = Number(process.exitCode ?? 0)
    if (!code || typeof result !== 'object' || result === null || Array.isArray(result) || 'error' in result) return result
    return {...result, ok: false, exitCode: code}
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own parse errors (unknown flag, missing arg) are bad input: exit 2
    const {isParseError, usageError} = await import('./error-output.js')
    let e: ObsctlError
    if (isPromptExit(err)) e = promptInterruptedError()
    else if (isObsctlError(err)) e = err
    else if (err.oclif?.exit !== undefined && err.oclif.exit === 0) throw err
    else if (isParseError(err)) e = usageError(err, this.id)
    else {
      e =
        fromFsError(err) ??
        new ObsctlError(`obsctl stopped on an internal error (a bug) while running \`obsctl ${this.id?.replaceAll(':', ' ') ?? ''}\``, {
          exitCode: ExitCode.failed,
          code: 'UNEXPECTED',
          cause: err,
          hints: ['rerun with --verbose (or OBSCTL_DEBUG=1) to print the stack trace, and report it with the command you ran'],
        })
    }
    // printed redacted: a value the user typed (a URL with a password, a --token) is never echoed back
    const {printError, redactError} = await import('./error-output.js')
    const json = this.jsonEnabled()
    const stack = (e.code === 'UNEXPECTED' || e.code.startsWith('FS_')) && (process.env.OBSCTL_DEBUG || this.argv.includes('--verbose'))
    // an interrupted run carries its result: under --verbose, its failed tasks' log tails first
    if (!json && this.argv.includes('--verbose')) await this.printFailureTails(redactError(e).details).catch(() => undefined)
    // the stack's first line is the original message: redacted as the message is
    const {redactDeep} = await import('../config/validators.js')
    // stopped by Ctrl-C with a handler of its own (node preflight, render …): on the line under the echoed ^C
    if (e.code === 'INTERRUPTED' && this.sigintSeen) this.freshLineAfterCtrlC()
    await printError(e, {json, extra: stack ? [redactDeep(String(err.stack))] : []})
    this.exit(e.exitCode)
    return undefined
  }
}

/**
 * Flags whose empty value means something (`--rename-replacement ''` removes the matched part of an index name), and
 * --config, whose own message says more (../config/load.ts). Every other option flag given '' is refused: an empty
 * value is what a script passes when its variable is unset (`--ca-file "$CA"`), and taking it as "not given" would
 * run without the file the user meant.
 */
const EMPTY_ALLOWED = new Set(['rename-replacement', 'config'])
/** Arguments whose empty value means something: `config explain ''` (the whole inventory), `config set PATH ''`. */
const EMPTY_ARG_ALLOWED: Record<string, string[]> = {'config:explain': ['path'], 'config:set': ['value']}

function refuseEmptyValues(raw: ParsingToken[], flags: Record<string, {type?: string}>, args: Record<string, unknown>, id: string | undefined): void {
  const help = `obsctl ${id?.replaceAll(':', ' ') ?? ''} --help`
  for (const t of raw) {
    if (t.type === 'flag' && t.input === '' && flags[t.flag]?.type === 'option' && !EMPTY_ALLOWED.has(t.flag))
      throw new ObsctlError(`--${t.flag} is empty: give it a value, or leave the flag out`, {exitCode: ExitCode.badInput, code: 'BAD_FLAGS', hints: [help]})
  }
  for (const t of raw) {
    if (t.type === 'arg' && t.input === '' && t.arg in args && !EMPTY_ARG_ALLOWED[id ?? '']?.includes(t.arg))
      throw new ObsctlError(`the argument ${t.arg.toUpperCase()} is empty`, {exitCode: ExitCode.badInput, code: 'BAD_ARGS', hints: [help]})
  }
}

/**
 * NODE_TLS_REJECT_UNAUTHORIZED=0 turns TLS verification off for every connection that does not ask for it itself:
 * @kubernetes/client-node leaves rejectUnauthorized unset (its config.js: "When not set, fetch will use
 * NODE_TLS_REJECT_UNAUTHORIZED"), so the API servers' tokens and client keys would go to whoever answers. obsctl's
 * own clients ask for verification (platform/http.ts, platform/s3.ts, argocd/manifest.ts), but no command runs
 * with it: exit 2 naming the variable (docs/architecture.md "Credentials and TLS").
 */
export function refuseTlsVerificationOff(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') return
  throw inputError(
    'NODE_TLS_REJECT_UNAUTHORIZED=0 turns TLS verification off, and obsctl never sends credentials to a server it has not verified',
    [
      'unset NODE_TLS_REJECT_UNAUTHORIZED',
      "for a private CA: --ca-file PATH (services), s3.caFile (S3), the kubeconfig's certificate-authority-data (API servers)",
    ],
    'TLS_VERIFICATION_OFF',
  )
}

/**
 * What a command parses with, each argument with oclif's `ignoreStdin` (BaseCommand.parse; the autocomplete commands,
 * which extend the plugin's commands, parse through it too). `options` is usually the command's class: oclif's parse
 * copies its own properties and reads flags, baseFlags and enableJsonFlag from it, inherited ones too (`--config` is
 * BaseCommand's), so this object carries those three as the class has them.
 */
export function withoutStdin<I extends {args?: Record<string, object>; flags?: unknown; baseFlags?: unknown; enableJsonFlag?: unknown}>(
  options: I | undefined,
): I | undefined {
  if (!options) return options
  const args = options.args && Object.fromEntries(Object.entries(options.args).map(([name, arg]) => [name, {...arg, ignoreStdin: true}]))
  return {...options, flags: options.flags, baseFlags: options.baseFlags, enableJsonFlag: options.enableJsonFlag, args}
}
