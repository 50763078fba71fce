#!/usr/bin/env node
// Benchmark: every regular expression literal in src/, run over long runs of 18 shapes of text (one character repeated,
// or a letter and a separator: `xxxx`, `x-x-`, `a.a.`, spaces, …) of 4,096 and 8,192 characters: a pattern whose time
// grows ~4x when the text doubles is quadratic, and on a log line, a message or an inventory line of a few hundred KB
// it runs for minutes (twenty-third round, docs/performance.md: redaction and the inventory reader were). Each
// superlinear pattern is a row, with its file and line and the shape that shows it; what matters is the input it sees
// (obsctl's own help text is short). Source read with TypeScript's parser (a devDependency), so regexes are found
// as the compiler sees them. No budget: a list to read. Run: node bench/regex.bench.js
import {readFileSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {runIfMain} from './_lib.js'

const ROOT = path.join(import.meta.dirname, '..')

const SHAPES = {
  'x…': (n) => 'x'.repeat(n),
  '1…': (n) => '1'.repeat(n),
  'x-x-…': (n) => 'x-'.repeat(n / 2),
  'a.a.…': (n) => 'a.'.repeat(n / 2),
  spaces: (n) => ' '.repeat(n),
  tabs: (n) => '\t'.repeat(n),
  'a a …': (n) => 'a '.repeat(n / 2),
  'a:a:…': (n) => 'a:'.repeat(n / 2),
  'a/a/…': (n) => 'a/'.repeat(n / 2),
  '"a"a…': (n) => '"a'.repeat(n / 2),
  lines: (n) => 'a\n'.repeat(n / 2),
  'a=a=…': (n) => 'a='.repeat(n / 2),
  'a,a,…': (n) => 'a,'.repeat(n / 2),
  'a@a@…': (n) => 'a@'.repeat(n / 2),
  '\\a\\a…': (n) => '\\a'.repeat(n / 2),
  '{a{a…': (n) => '{a'.repeat(n / 2),
  '$a$a…': (n) => '$a'.repeat(n / 2),
  '<a<a…': (n) => '<a'.repeat(n / 2),
}

/** every regular expression literal under src/: file, line, source, flags */
function literals() {
  const ts = createRequire(path.join(ROOT, 'package.json'))('typescript')
  const src = path.join(ROOT, 'src')
  const out = []
  for (const rel of readdirSync(src, {recursive: true})) {
    if (!String(rel).endsWith('.ts')) continue
    const file = path.join(src, String(rel))
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const walk = (node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText()
        const cut = text.lastIndexOf('/')
        const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1
        out.push({where: `${path.relative(ROOT, file)}:${line}`, source: text.slice(1, cut), flags: text.slice(cut + 1)})
      }
      ts.forEachChild(node, walk)
    }
    walk(sf)
  }
  return out
}

/** the fastest of three replaces over the text, ms */
function timeOf(re, text) {
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    re.lastIndex = 0
    text.replace(re, '')
    best = Math.min(best, performance.now() - t0)
  }
  return best
}

export default async function bench() {
  const all = literals()
  const rows = [{name: 'regular expression literals in src/', value: all.length, unit: 'patterns'}]
  for (const r of all) {
    const re = new RegExp(r.source, r.flags.includes('g') ? r.flags : `${r.flags}g`)
    for (const [shape, make] of Object.entries(SHAPES)) {
      const short = timeOf(re, make(4096))
      const long = timeOf(re, make(8192))
      // ~2x is linear; ~4x quadratic (a few ms at least, so that timer noise is not read as growth)
      if (long > 3 && long / short > 3) {
        rows.push({
          name: `superlinear: ${r.where} /${r.source}/${r.flags} on "${shape}" (8,192 chars; x = growth for 2x the text)`,
          value: long,
          unit: 'ms',
          ratio: long / short,
        })
        break
      }
    }
  }
  return {title: 'regular expressions on long runs of text (superlinear ones listed)', rows}
}

await runIfMain(import.meta.url, bench)
