/** `obsctl init`: the wizard (inquirer) or the seed's lab, written as a commented inventory that passes lint. */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {declinedError, inputError} from '../errors.js'
import {assertFolderPath, assertRegularFile, ensurePrivateDir, writeFileAtomic} from '../fs.js'
import {canPrompt, prompter, type Prompter} from '../prompt.js'
import {parseInventory} from './load.js'
import {lintInventory} from './lint.js'
import {obsctlDir} from './model.js'
import {jsonSchema} from './schema.js'
import {askAll, questionsAtFault, reask, summaryLines} from './wizard.js'
import {EXAMPLE_ANSWERS, renderInventoryYaml, type InitAnswers} from './write.js'

export interface InitOptions {
  file: string
  /** what named the file when not the default (-c/--config or $OBSCTL_CONFIG): the hints name it */
  from?: '-c/--config' | '$OBSCTL_CONFIG'
  example?: boolean
  force?: boolean
  /** answers supplied programmatically (tests, other commands); skips the prompts */
  answers?: InitAnswers
  /** where the wizard's notes go (the findings it re-asks for, the summary); the command passes stderr */
  say?: (line: string) => void
  /** --yes: write without the summary's confirmation */
  yes?: boolean
}

export interface InitResult {
  file: string
  clusters: number
  nodes: number
  example: boolean
  /** .obsctl/schema.json beside the inventory: the JSON Schema its `# yaml-language-server: $schema=` line names */
  schema: string
  /** the file already held exactly this inventory (the same `init --example` run again): nothing was written */
  unchanged?: boolean
}

export async function initInventory(opts: InitOptions): Promise<InitResult> {
  // before any question or write: what is in the way of the inventory or of .obsctl/ beside it is bad input
  const byEnv = opts.from === '$OBSCTL_CONFIG'
  const elsewhere = [
    byEnv ? 'the path came from $OBSCTL_CONFIG: set it to another file, or pass -c/--config OTHER.yaml' : 'or -c/--config OTHER.yaml to write elsewhere',
  ]
  assertFolderPath(path.dirname(path.resolve(opts.file)), elsewhere)
  assertRegularFile(opts.file, [`${byEnv ? '$OBSCTL_CONFIG' : '-c/--config'} names the inventory file to write: give the path of a regular file`])
  assertFolderPath(obsctlDir(path.dirname(path.resolve(opts.file))), elsewhere)
  const interactive = !opts.answers && !opts.example
  const exists = existsSync(opts.file) && !opts.force
  const refuse = () => inputError(`${opts.file} already exists; not overwriting it`, ['pass --force to overwrite it', ...elsewhere], 'EXISTS')
  // the wizard is refused before its questions; --example (answers known) only when the file holds something else
  if (exists && interactive) throw refuse()
  let answers = opts.answers ?? (opts.example ? EXAMPLE_ANSWERS : undefined)
  let ask: Prompter | undefined
  if (!answers) {
    if (!canPrompt()) {
      throw inputError(
        'obsctl init asks questions, and there is no terminal (or CI is set)',
        ['pass --example to write the example lab, then edit it', 'or run obsctl init in a terminal'],
        'NO_TTY',
      )
    }
    ask = prompter(['--example (the example lab) or write obsctl.yaml yourself'])
    answers = await askAll(ask)
  }
  const say = opts.say ?? (() => undefined)
  // what we write must load and pass lint; in the wizard, a failure re-asks only the questions at fault
  let text: string
  for (;;) {
    text = renderInventoryYaml(answers)
    const report = lintInventory(parseInventory(text, opts.file))
    if (report.errors === 0) break
    const errors = report.findings.filter((f) => f.severity === 'error')
    const again = ask ? questionsAtFault(errors, answers) : []
    if (again.length === 0) {
      const first = errors[0]!
      throw inputError(`the answers do not make a valid inventory: ${first.path}: ${first.message}`, [first.fix], 'INIT_INVALID', report)
    }
    say('The answers do not make a valid inventory yet (the other answers are kept):')
    for (const f of errors) say(`  ✖ ${f.path}: ${f.message}\n    → ${f.fix}`)
    await reask(ask!, answers, again)
  }
  const result = {
    file: opts.file,
    clusters: answers.clusters.length,
    nodes: answers.clusters.reduce((a, c) => a + c.hosts.length, 0),
    example: Boolean(opts.example),
  }
  if (exists) {
    // the same command run again (a CI job's rerun): the file already holds this inventory, byte for byte
    if (readFileSync(opts.file, 'utf8') !== text) throw refuse()
    return {...result, schema: await writeSchema(opts.file, true), unchanged: true}
  }
  if (interactive && !opts.yes) {
    for (const line of summaryLines(answers, opts.file)) say(line)
    if (!(await ask!.confirm({message: `Write ${opts.file}?`, default: true}))) throw declinedError(`declined: ${opts.file} was not written`)
  }
  // the schema first, the inventory last: a write that fails (a full disk) leaves no inventory behind, which the same
  // command run again would refuse to overwrite without --force
  const schema = await writeSchema(opts.file)
  // 0644 when new; a file replaced with --force keeps its mode (and owner)
  await writeFileAtomic(opts.file, text)
  return {schema, ...result}
}

/** .obsctl/schema.json beside the inventory; `onlyIfChanged`: left as it is when it holds this obsctl's schema already. */
async function writeSchema(file: string, onlyIfChanged = false): Promise<string> {
  const schema = path.join(ensurePrivateDir(obsctlDir(path.dirname(path.resolve(file)))), 'schema.json')
  const text = `${JSON.stringify(jsonSchema(), null, 2)}\n`
  if (!(onlyIfChanged && existsSync(schema) && readFileSync(schema, 'utf8') === text)) await writeFileAtomic(schema, text, {mode: 0o644})
  return schema
}
