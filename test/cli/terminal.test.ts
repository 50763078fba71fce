/**
 * obsctl in a real terminal (tmux, test/support/tmux.ts), driven by keystrokes as a person uses it:
 * colour on a terminal and none with NO_COLOR or in a pipe; a dry run drawn as "would run", never ✔; a long
 * diff paged; Ctrl-C at a prompt (exit 130, nothing written); a declined confirmation; a long question fitted to the width; an unknown command's
 * "Did you mean …?" (obsctl's words and prompt, no password quoted; yes runs the suggestion as typed).
 * status --watch is
 * in test/status/status.test.ts (it needs the platform harness).
 */
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {Terminal} from '../support/tmux.js'
import {waitFor} from '../support/wait.js'
import {BIN, obsctl, tmpDir} from './helpers.js'

const ESC = '\u001b['
const cli = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`

let dir: string
let term: Terminal | undefined
beforeAll(async () => {
  dir = tmpDir('obsctl-term-')
  expect((await obsctl(['init', '--example', '-c', path.join(dir, 'obsctl.yaml')])).status).toBe(0)
})
afterEach(async () => {
  await term?.close()
  term = undefined
})

describe('colour', () => {
  it('on a terminal: coloured icons and status cells', async () => {
    term = await Terminal.start(`${cli} config validate`, {cwd: dir, env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
    expect(await term.exitCode()).toBe(0)
    const screen = await term.screen(true)
    expect(screen).toContain(`${ESC}33m‼`)
    expect(screen).toContain(`${ESC}32myes`)
  })

  it('none with NO_COLOR, none in a pipe', async () => {
    term = await Terminal.start(`NO_COLOR=1 ${cli} config validate; ${cli} config validate | cat`, {cwd: dir, env: {FORCE_COLOR: undefined}})
    expect(await term.exitCode()).toBe(0)
    const screen = await term.screen(true)
    expect(screen).toContain('‼')
    expect(screen).not.toContain(ESC)
  })
})

describe('dry runs', () => {
  it('say "would run" beside the tasks that would run, with no ✔', async () => {
    term = await Terminal.start(`${cli} bootstrap --phase buckets --dry-run 2>/dev/null`, {cwd: dir, env: {NO_COLOR: '1'}})
    expect(await term.exitCode()).toBe(0)
    const screen = await term.screen()
    expect(screen).toMatch(/○ \[dry-run\] S3 buckets/)
    expect(screen).toMatch(/○ bucket thanos-metrics .*: would run: create bucket thanos-metrics/)
    expect(screen).toMatch(/^buckets +thanos-metrics +would run /m)
    expect(screen).not.toContain('✔')
    expect(screen).toContain('dry run: nothing was changed')
  })

  it('listr2 draws the task list on a terminal only: in a pipe the same tasks are lines, and listr2 is not loaded at all', async () => {
    // the files the process loaded (require.cache at exit), and of those the bundle chunks whose source map names listr2
    const preload = path.join(dir, 'loaded.cjs')
    writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.LOADED_TO, JSON.stringify(Object.keys(require.cache))))\n")
    const listr2In = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as string[]).filter(
        (f) =>
          existsSync(`${f}.map`) &&
          (JSON.parse(readFileSync(`${f}.map`, 'utf8')) as {sources: string[]}).sources.some((s) => s.includes('node_modules/listr2/')),
      )
    const onTerminal = path.join(dir, 'loaded-terminal.json')
    term = await Terminal.start(`${cli} bootstrap --phase buckets --dry-run 2>/dev/null`, {
      cwd: dir,
      env: {NO_COLOR: '1', NODE_OPTIONS: `--require ${preload}`, LOADED_TO: onTerminal},
    })
    expect(await term.exitCode()).toBe(0)
    expect(await term.screen()).toMatch(/○ bucket thanos-metrics .*: would run: create bucket thanos-metrics/)
    expect(listr2In(onTerminal).length).toBeGreaterThan(0)
    const inPipe = path.join(dir, 'loaded-pipe.json')
    const r = await obsctl(['bootstrap', '--phase', 'buckets', '--dry-run'], {cwd: dir, env: {NODE_OPTIONS: `--require ${preload}`, LOADED_TO: inPipe}})
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^buckets thanos-metrics: would run: create bucket thanos-metrics/m)
    expect(listr2In(inPipe)).toEqual([])
  })
})

describe('the task list fits the terminal', () => {
  it('at 50 columns a task line goes on at a space, under the task’s text, with no space carried to the next line', async () => {
    term = await Terminal.start(`${cli} bootstrap --phase buckets --dry-run 2>/dev/null`, {cwd: dir, env: {NO_COLOR: '1'}, cols: 50})
    expect(await term.exitCode()).toBe(0)
    // the task list: the screen down to the summary table
    const list = (await term.screen()).split('\nPHASE ')[0]!
    for (const l of list.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(50)
    // (listr2's wrap filled the line to the width and went on with the space it broke at: `     run: create …`)
    expect(list).toMatch(/^ {2}○ bucket thanos-metrics \(Thanos blocks\): would\n {4}run: create bucket thanos-metrics if\n {4}missing;/m)
    for (const l of list.split('\n').slice(1)) expect(l, l).toMatch(/^ {2}(○ | {2}\S)/)
  })
})

describe('tables fit the terminal', () => {
  it('obsctl plan at 50 columns: no line wraps (the screen read with wrapped lines joined); in a pipe each row is one line', async () => {
    term = await Terminal.start(`${cli} plan`, {cwd: dir, env: {NO_COLOR: '1'}, cols: 50, rows: 300})
    expect(await term.exitCode()).toBe(0)
    // the table: the screen down to the blank line before the counts
    const lines = (await term.screen()).split('\n\n')[0]!.split('\n')
    expect(lines.join('\n')).toMatch(/^preflight +cluster-01\/192\.168\.101\.194 +pending\n {4}ssh bsh@192\.168\.101\.194: /m)
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(50)
    await term.close()
    term = await Terminal.start(`${cli} plan | grep -c '^preflight .*pending  ssh .*(read-only)$'`, {cwd: dir, cols: 50})
    expect(await term.exitCode()).toBe(0)
    expect(await term.screen()).toMatch(/^4$/m)
  })
})

describe('the root help kept (src/lib/root-help-cache.ts)', () => {
  it('drawn on a terminal, printed again from the cache at that width; another width is drawn', async () => {
    const log = path.join(dir, 'root-help.log')
    const help = `${cli} --help 2>>${log}`
    term = await Terminal.start(`${help}; echo =====; ${help}`, {
      cwd: dir,
      env: {NO_COLOR: undefined, FORCE_COLOR: undefined, XDG_CACHE_HOME: path.join(dir, 'root-help-cache'), NODE_DEBUG: 'obsctl-code-cache'},
      cols: 60,
      rows: 400,
    })
    expect(await term.exitCode()).toBe(0)
    const [drawn, kept] = (await term.screen(true)).split('__EXIT=')[0]!.split('=====\n')
    expect(drawn).toMatch(/^VERSION$/m)
    expect(kept!.trimEnd()).toBe(drawn!.trimEnd())
    for (const l of drawn!.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(60)
    await term.close()
    term = await Terminal.start(help, {
      cwd: dir,
      env: {NO_COLOR: undefined, FORCE_COLOR: undefined, XDG_CACHE_HOME: path.join(dir, 'root-help-cache'), NODE_DEBUG: 'obsctl-code-cache'},
      cols: 70,
      rows: 400,
    })
    expect(await term.exitCode()).toBe(0)
    expect(readFileSync(log, 'utf8').match(/root help: \w+/g)).toEqual(['root help: drawn', 'root help: from', 'root help: drawn'])
  })
})

describe('help fits the terminal', () => {
  // the words of a help text, as a shell and a reader take them: a command continued with ` \` and an option list
  // broken after a `|` are one line again
  const words = (text: string) =>
    text
      .replace(/ \\\n\s+/g, ' ')
      .replace(/\|\n\s+/g, '|')
      .replace(/\n\s+# /g, ' ')
      .split(/\s+/)
      .filter(Boolean)

  it.each([
    [80, ['--help']],
    [50, ['--help']],
    [50, ['cluster', 'add', '--help']],
    [50, ['bootstrap', '--help']],
  ])('at %i columns, %j: no line wider (the screen read with wrapped lines joined), no word cut', async (cols, args) => {
    term = await Terminal.start(`${cli} ${args.join(' ')}`, {cwd: dir, env: {NO_COLOR: '1'}, cols, rows: 400})
    expect(await term.exitCode()).toBe(0)
    const screen = (await term.screen()).split('__EXIT=')[0]!.trimEnd()
    // the root description broke as 'platfor' / 'm' at 80 columns; lists one per line were 2 columns too wide at 50
    for (const l of screen.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(cols)
    // the same words as the help unwrapped (a pipe as wide as the longest line)
    const wide = await obsctl(args, {cwd: dir, env: {OCLIF_COLUMNS: '1000'}})
    expect(words(screen)).toEqual(words(wide.stdout))
  })
})

describe('errors and notices on a terminal', () => {
  it('an error fits the width at spaces, its continuation lines under its text; a pipe gets each line whole', async () => {
    term = await Terminal.start(`${cli} bootstrap --dry-run`, {cwd: dir, env: {NO_COLOR: '1'}, cols: 50})
    expect(await term.exitCode()).toBe(2)
    let screen = (await term.screen()).split('__EXIT=')[0]!
    // the terminal cut 'preflight → nodes → kubeco' / 'nfig' at its edge, with no indent
    for (const l of screen.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(50)
    expect(screen).toMatch(/^Error: say which phases to run: --all, --phase P\n {7}or --from P \(exactly one\)$/m)
    expect(screen).toMatch(/^ {2}→ phases in order: preflight → nodes →\n {4}kubeconfig → buckets → render → argocd →\n {4}register/m)
    await term.close()
    term = await Terminal.start(`${cli} bootstrap --dry-run 2>&1 | cat`, {cwd: dir, env: {NO_COLOR: '1'}, cols: 50})
    await term.exitCode()
    screen = await term.screen()
    // (the screen read with the terminal's own wrapping joined: one line as printed)
    expect(screen).toMatch(/^Error: say which phases to run: --all, --phase P or --from P \(exactly one\)$/m)
    expect(screen).toMatch(
      /^ {2}→ phases in order: preflight → nodes → kubeconfig → buckets → render → argocd → register → secrets → root-app → sync → validate$/m,
    )
  })

  it('a missing required flag is named as typed, --host (oclif dims its line on a terminal: it said "Missing required flag host")', async () => {
    // in colour, as a terminal has it: with NO_COLOR oclif wrote the line plain and it was read
    term = await Terminal.start(`${cli} cluster add cluster-05 --dry-run`, {cwd: dir, env: {NO_COLOR: undefined, FORCE_COLOR: undefined}})
    expect(await term.exitCode()).toBe(2)
    expect(await term.screen()).toMatch(/^Error: missing required flag --host\n {2}→ obsctl cluster add --help$/m)
  })

  it("bootstrap --dry-run's workstation warnings fit the width, continued under their text", async () => {
    const env = {NO_COLOR: '1', OBSCTL_S3_ACCESS_KEY: undefined, OBSCTL_S3_SECRET_KEY: undefined}
    term = await Terminal.start(`${cli} bootstrap --phase buckets --dry-run`, {cwd: dir, env, cols: 60, rows: 200})
    expect(await term.exitCode()).toBe(0)
    const screen = (await term.screen()).split('__EXIT=')[0]!
    expect(screen).toContain('workstation warnings (obsctl doctor):')
    // a word longer than a line (the test folder's path) is kept whole, on a line of its own
    for (const l of screen.split('\n')) if ([...l].length > 60) expect(l.trim(), l).not.toContain(' ')
    expect(screen).toMatch(/^ {4}\$OBSCTL_S3_ACCESS_KEY is not set: obsctl will ask for\n {6}the S3 access key/m)
  })
})

describe('Ctrl-C while preflight connects', () => {
  // the nodes on loopback addresses whose port accepts and never answers: every SSH check is connecting when Ctrl-C comes
  let own: string
  const servers: Server[] = []
  // connections the nodes' ports took, kept open and silent
  let connections: Socket[] = []
  beforeAll(async () => {
    own = tmpDir('obsctl-term-pre-')
    expect((await obsctl(['init', '--example', '-c', path.join(own, 'obsctl.yaml')])).status).toBe(0)
    const text = readFileSync(path.join(own, 'obsctl.yaml'), 'utf8').replaceAll('192.168.101.', '127.0.1.')
    const hosts = [...new Set(text.match(/127\.0\.1\.\d+/g))]
    let port = 0
    for (const h of hosts) {
      const s = createServer((c) => connections.push(c))
      await new Promise<void>((resolve) => s.listen(port, h, resolve))
      port = (s.address() as AddressInfo).port
      servers.push(s)
    }
    writeFileSync(path.join(own, 'obsctl.yaml'), text.replace(/^ {2}user: bsh$/m, `  user: bsh\n  port: ${port}`))
  })
  afterAll(() => servers.forEach((s) => s.close()))
  afterEach(() => {
    connections.forEach((c) => c.destroy())
    connections = []
  })
  const env = {NO_COLOR: '1', OBSCTL_SSH_PASSWORD: 'not-used'}

  it('bootstrap --phase preflight: its tasks and phase say interrupted, none ✖ failed (it said "✖ 1 check(s) failed: SSH: interrupted")', async () => {
    term = await Terminal.start(`${cli} bootstrap --phase preflight --yes`, {cwd: own, env})
    await term.waitFor(/› task: ssh bsh@\[127\.0\.1\.194\]:\d+/)
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    const screen = await term.screen()
    expect(screen).toMatch(/^. Preflight checks on every node \(preflight\): interrupted$/m)
    expect(screen).toMatch(/^ {4}↓ cluster-01\/127\.0\.1\.194: interrupted by SIGINT; resumes on the next run$/m)
    expect(screen).not.toMatch(/✖|✔|failed/)
  })

  it('node preflight: interrupted, exit 130, no check reported failed; the message on a line of its own, under the ^C', async () => {
    term = await Terminal.start(`${cli} node preflight`, {cwd: own, env})
    // (no task list: it waits on the connections, which never answer)
    await waitFor(() => connections.length > 0, 60_000, 'a node connected to')
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    const screen = await term.screen()
    // (the terminal echoes ^C where the cursor is: `^CError: interrupted …` before)
    expect(screen).toMatch(/^Error: interrupted by SIGINT \(Ctrl-C\) before `obsctl node preflight` finished: it only reads, nothing was changed$/m)
    expect(screen).toMatch(/^\^C$/m)
    expect(screen).not.toMatch(/✖|fail/)
  })
})

describe('Ctrl-C in a command without a task list', () => {
  it('validate --wait: said in words (nothing was changed, run it again), exit 130', async () => {
    // every check through an API server on a closed loopback port: it fails and is retried until Ctrl-C
    const kc = path.join(dir, 'closed.kubeconfig')
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\n' +
        'contexts: [{name: cluster-01-context, context: {cluster: c, user: u}}]\ncurrent-context: cluster-01-context\n',
    )
    term = await Terminal.start(`${cli} validate argocd --via-api-server --kubeconfig ${kc} --wait --timeout 600`, {cwd: dir, env: {NO_COLOR: '1'}})
    await term.waitFor(/checks pass · .* waiting for: argocd/)
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    const screen = await term.screen()
    expect(screen).toMatch(/^Error: interrupted by Ctrl-C before `obsctl validate` finished: it only reads, nothing was changed$/m)
    expect(screen).toMatch(/^ {2}→ run the same command again for its result$/m)
  })
})

describe('paging', () => {
  it('a long diff goes through $PAGER (less -R) on a terminal; q ends it; a pipe gets it all, unpaged', async () => {
    const cmd = `${cli} config set clusters.cluster-02.metrics agent --dry-run`
    term = await Terminal.start(cmd, {cwd: dir, env: {PAGER: undefined, LESS: undefined}, rows: 30})
    // less holds the screen: the first page, its prompt, no exit yet
    const page = await term.waitFor(/^:\s*$/m)
    expect(page).toContain('set clusters.cluster-02.metrics = agent')
    expect(page).not.toContain('__EXIT')
    await term.keys('q')
    expect(await term.exitCode()).toBe(0)
    await term.close()
    term = await Terminal.start(`${cmd} | wc -l`, {cwd: dir, env: {PAGER: undefined}, rows: 30})
    expect(await term.exitCode()).toBe(0)
    expect(Number(/^\s*(\d+)\s*$/m.exec(await term.screen())?.[1])).toBeGreaterThan(1000)
  })
})

describe('prompts', () => {
  it('Ctrl-C at the first question of the wizard: exit 130, nothing written', async () => {
    const empty = tmpDir('obsctl-term-init-')
    term = await Terminal.start(`${cli} init`, {cwd: empty})
    await term.waitFor(/^\? /m)
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    expect(await term.screen()).toContain('interrupted at a prompt (Ctrl-C)')
    // init has no tasks: not "finished tasks are not redone"
    expect(await term.screen()).toMatch(/^ {2}→ nothing after this question was done: run the same command again to answer it$/m)
    expect(readdirSync(empty)).toEqual([])
  })

  it('a declined confirmation: exit 1, "declined", the inventory unchanged; Ctrl-C there: exit 130, unchanged', async () => {
    const file = path.join(dir, 'obsctl.yaml')
    const before = readFileSync(file, 'utf8')
    const cmd = `${cli} config set retention.prometheus 12h`
    term = await Terminal.start(cmd, {cwd: dir, env: {PAGER: 'cat'}})
    await term.waitFor(/\? .*\(y\/N\)/)
    await term.type('n')
    await term.keys('Enter')
    expect(await term.exitCode()).toBe(1)
    expect(await term.screen()).toMatch(/declined/)
    expect(readFileSync(file, 'utf8')).toBe(before)
    await term.close()

    term = await Terminal.start(cmd, {cwd: dir, env: {PAGER: 'cat'}})
    await term.waitFor(/\? .*\(y\/N\)/)
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })
})

describe('questions fit the terminal', () => {
  it('cluster remove at 50 columns: the question at spaces, in a block under its text, each step under its own text; no: exit 1, unchanged', async () => {
    const file = path.join(dir, 'obsctl.yaml')
    const before = readFileSync(file, 'utf8')
    term = await Terminal.start(`${cli} cluster remove cluster-04`, {cwd: dir, env: {NO_COLOR: '1'}, cols: 50, rows: 60})
    const screen = await term.waitFor(/Go ahead\? \(y\/N\)/)
    const question = screen.slice(screen.indexOf('? remove cluster-04'))
    // (the screen read with the terminal's own wrapping joined: inquirer broke the lines where the width ended, each
    // continuation at the first column: `they deployed)`, `(commit + push)`)
    for (const l of question.trimEnd().split('\n')) expect([...l].length, l).toBeLessThanOrEqual(50)
    expect(question).toMatch(/^\? remove cluster-04\n {2}\(https:\/\/192\.168\.101\.198:6443\):\n {4}1\. Delete its Argo CD/m)
    expect(question).toMatch(/^ {4}1\. Delete its Argo CD Applications \(and what\n {7}they deployed\)$/m)
    expect(question).toMatch(/^ {4}5\. Render the GitOps repository without it\n {7}\(commit \+ push\)$/m)
    expect(question).toMatch(/^ {2}its nodes are left untouched \(--reset-nodes\n {2}wipes them\)\n {2}Go ahead\? \(y\/N\)/m)
    await term.type('n')
    await term.keys('Enter')
    expect(await term.exitCode()).toBe(1)
    expect(await term.screen()).toMatch(/^ {2}Go ahead\? No$/m)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('the wizard at 40 columns: a default too long for the last line goes under the question, not at the first column', async () => {
    const empty = tmpDir('obsctl-term-init-')
    term = await Terminal.start(`${cli} init`, {cwd: empty, env: {NO_COLOR: '1'}, cols: 40})
    const screen = await term.waitFor(/\(example\.lab\)/)
    expect(screen).toMatch(/^\? Base domain \(services are\n {2}<service>\.k8s-cluster-<id>\.<domain>\)\n {2}\(example\.lab\)/m)
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
  })
})

describe('an unknown command', () => {
  // obsctl's own question (src/lib/prompt.ts, @inquirer/prompts' confirm on stderr), in obsctl's words
  const QUESTION = (typed: string, meant: string) =>
    new RegExp(`^\\? "${typed.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is not an obsctl command\\. Did you mean "obsctl ${meant}"\\? \\(Y/n\\)`, 'm')

  it('asks in obsctl’s words, quoting a pasted URL whole without its password; no: exit 2, the error as obsctl prints it', async () => {
    term = await Terminal.start(`${cli} clster remove https://ops:pa55word@git.example.test/x`, {cwd: dir})
    const asked = await term.waitFor(QUESTION('clster remove https://git.example.test/x', 'cluster remove'))
    // not the plugin's "a obsctl command", nor its URL split at ':' (`https //git.example.test/x`)
    expect(asked).not.toMatch(/a obsctl|https \/\/|pa55word/)
    await term.type('n')
    await term.keys('Enter')
    expect(await term.exitCode()).toBe(2)
    const screen = await term.screen()
    expect(screen).toMatch(/^Error: "clster remove https:\/\/git\.example\.test\/x" is not an obsctl command\.\n\s+→ obsctl help$/m)
    expect(screen).not.toContain('pa55word')
  })

  it('a URL alone, close to no command: no question (Enter ran the closest, `state show`), the error at once, exit 2', async () => {
    term = await Terminal.start(`${cli} https://ops:pa55word@git.example.test/x`, {cwd: dir})
    expect(await term.exitCode()).toBe(2)
    const screen = await term.screen()
    expect(screen).toMatch(/^Error: "https:\/\/git\.example\.test\/x" is not an obsctl command\.\n\s+→ obsctl help$/m)
    expect(screen).not.toMatch(/\?|Did you mean|pa55word/)
  })

  it('Ctrl-C at the question: exit 130, as at every question of obsctl', async () => {
    term = await Terminal.start(`${cli} bootsrap`, {cwd: dir})
    await term.waitFor(QUESTION('bootsrap', 'bootstrap'))
    await term.keys('C-c')
    expect(await term.exitCode()).toBe(130)
    expect(await term.screen()).toMatch(/^Error: interrupted at a prompt \(Ctrl-C\)$/m)
  })

  it('yes runs the suggestion with the words as typed, not the redacted ones the question shows', async () => {
    // a token-shaped word is masked in the question; config set gets it as typed and writes it (in a folder of its
    // own, committed locally: --no-push --no-sync, nothing leaves the machine)
    const own = tmpDir('obsctl-term-typed-')
    expect((await obsctl(['init', '--example', '-c', path.join(own, 'obsctl.yaml')])).status).toBe(0)
    const token = `glpat-${'a1B2'.repeat(6)}`
    term = await Terminal.start(`${cli} cnfig set git.dir ${token} --yes --no-push --no-sync`, {cwd: own, env: {PAGER: 'cat'}})
    const asked = await term.waitFor(QUESTION('cnfig set git.dir ***', 'config set'))
    expect(asked).not.toContain(token)
    await term.keys('Enter')
    expect(await term.exitCode()).toBe(0)
    expect(readFileSync(path.join(own, 'obsctl.yaml'), 'utf8')).toMatch(new RegExp(`^ {2}dir: ${token} `, 'm'))
  })

  it('a URL among the words reaches the suggestion whole, one argument (oclif joins the words at its ":")', async () => {
    // (the closest command to the redacted `clster:remove:https://h.test/`: cluster remove)
    term = await Terminal.start(`${cli} clster remove https://ops:pa55word@h.test`, {cwd: dir})
    const asked = await term.waitFor(QUESTION('clster remove https://h.test/', 'cluster remove'))
    expect(asked).not.toContain('pa55word')
    await term.keys('Enter')
    expect(await term.exitCode()).toBe(0)
    // cluster remove quotes its argument back, redacted as every echo of what was typed
    expect(await term.screen()).toMatch(/^https:\/\/h\.test\/ is not in .*obsctl\.yaml: nothing to remove$/m)
    expect(await term.screen()).not.toContain('pa55word')
  })
})
