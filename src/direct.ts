/**
 * What bin/run.js runs for a command line src/lib/cli/direct-command.ts found to need none of oclif's runner: the
 * command as oclif's `execute` → `Config.runCommand` → `Command.run` would run it (its id set on the class, a new
 * instance with the arguments after the command's words, `_run`), then oclif's own `flush` on success and `handle` on
 * failure (the exit code; obsctl's commands print their errors themselves). bin/bundle.mjs bundles it as
 * dist/chunks/direct.js, sharing @oclif/core with the commands.
 */
import type {Command} from '@oclif/core/command'
import {flush} from '@oclif/core/flush'
import {handle} from '@oclif/core/handle'
import {directConfig, type DirectCommand} from './lib/cli/direct-command.js'
import {streamMade} from './lib/stdio.js'

/** a command class as oclif's Config.runCommand holds it: its static id set, and an instance made and run */
interface CommandClass {
  id: string
  new (argv: string[], config: never): Pick<Command, 'argv'> & {_run(): Promise<unknown>}
}

/** oclif's rule for a command module's class: the module itself, its default export, or the first export that runs. */
function commandClass(mod: Record<string, unknown>, file: string): CommandClass {
  const runs = (c: unknown): c is CommandClass => typeof (c as {run?: unknown} | undefined)?.run === 'function'
  const found = runs(mod) ? mod : runs(mod.default) ? mod.default : Object.values(mod).find(runs)
  if (!found) throw new Error(`${file} exports no command`)
  return found as CommandClass
}

export async function runDirect(d: DirectCommand, mod: Record<string, unknown>): Promise<unknown> {
  try {
    const C = commandClass(mod, d.file)
    C.id = d.id
    const result = await new C(d.argv, directConfig(d) as never)._run()
    // (what went to a file or a pipe without process.stdout, ./lib/stdio.ts, was written whole: nothing to wait for)
    if (streamMade(1)) void flush()
    return result
  } catch (error) {
    return handle(error as Error)
  }
}
