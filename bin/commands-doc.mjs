// docs/commands.md: the command reference, generated from the commands' own help (obsctl's help class, the built
// dist/help/obsctl-help.js, over oclif.manifest.json, so it is exactly what `obsctl COMMAND --help` prints, at 100
// columns, no colour).
// Run by `npm run docs:commands` after `npm run build`; `--check` exits 1 when the file is stale
// (test/cli/commands-doc.test.ts); `--out FILE` writes elsewhere. Works for any set of commands: it lists
// whatever the manifest holds, grouped by topic.
import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {Config} from '@oclif/core'

const ROOT = path.resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const check = args.includes('--check')
const outIndex = args.indexOf('--out')
const out = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, 'docs', 'commands.md')

const config = await Config.load(ROOT)
// package.json's oclif.helpClass, as the runner loads it (CommonJS, the bundle's)
const {default: ObsctlHelp} = createRequire(import.meta.url)(path.join(ROOT, `${config.pjson.oclif.helpClass}.js`))
const help = new ObsctlHelp(config, {maxWidth: 100, stripAnsi: true})
const bin = config.bin
const topicOf = (id) => (/[: ]/.test(id) ? id.split(/[: ]/)[0] : '')
// commands without a topic first, then each topic's
const key = (c) => `${topicOf(c.id) ? '1' : '0'} ${c.id}`
const commands = config.commands.filter((c) => !c.hidden).sort((a, b) => (key(a) < key(b) ? -1 : 1))
const words = (id) => id.split(/[: ]/).join(' ')
const anchor = (id) => `${bin}-${id.split(/[: ]/).join('-')}`
const summary = (c) => (c.summary ?? c.description ?? '').split('\n')[0].replaceAll('<%= config.bin %>', bin)
const topics = Object.fromEntries(config.topics.map((t) => [t.name, t.description]))

const lines = [
  '# Command reference',
  '',
  `<!-- Generated from the commands' own help by \`npm run docs:commands\` (bin/commands-doc.mjs); do not edit. -->`,
  '',
  `Every command prints the same text with \`${bin} COMMAND --help\` (or \`-h\`, or \`${bin} help COMMAND\`).`,
  '',
]
let current
for (const c of commands) {
  const t = topicOf(c.id)
  if (t !== current) {
    current = t
    lines.push(t ? `- **${t}** — ${(topics[t] ?? '').split('\n')[0]}` : '- **commands**')
  }
  lines.push(`  - [\`${bin} ${words(c.id)}\`](#${anchor(c.id)}) — ${summary(c)}`)
}
lines.push('')
for (const c of commands) {
  const text = help
    .formatCommand(c)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim()
  lines.push(`<a id="${anchor(c.id)}"></a>`, '', `## \`${bin} ${words(c.id)}\``, '', summary(c), '', '```text', text, '```', '')
}
const doc = `${lines.join('\n').trimEnd()}\n`

if (check) {
  let old = ''
  try {
    old = readFileSync(out, 'utf8')
  } catch {}
  if (old !== doc) {
    process.stderr.write(`${path.relative(process.cwd(), out)} is stale: run \`npm run build && npm run docs:commands\` and commit it\n`)
    process.exit(1)
  }
} else {
  writeFileSync(out, doc)
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)} (${commands.length} commands)\n`)
}
