/**
 * A command's DESCRIPTION is prose that oclif wraps to the terminal; a line break inside a paragraph is kept as it
 * is, so a description hard-wrapped at ~100 columns read ragged at 80 (`--dry-run validates the` / `inventory, …`)
 * and worse at 50. Paragraphs are separated by a blank line; a line of its own is a list item (`- `, `* `, `1. `),
 * an indented line or a `$` example. Read from the manifest the build writes (what help prints).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {expect, it} from 'vitest'
import {ROOT} from './helpers.js'

it('no description breaks a line inside a paragraph', () => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {description?: string}>}
  const ragged: string[] = []
  for (const [id, c] of Object.entries(manifest.commands)) {
    for (const para of (c.description ?? '').split('\n\n'))
      for (const line of para.split('\n').slice(1)) if (!/^(\s|[-*•$] |\d+\. )/.test(line)) ragged.push(`${id}: …${line.slice(0, 40)}`)
  }
  expect(ragged).toEqual([])
})
