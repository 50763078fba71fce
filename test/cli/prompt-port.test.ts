/**
 * The prompt port (src/lib/prompt.ts): lib code asks through it and never imports a prompt library; with no
 * terminal (or CI set, or nothing installed) a question fails with exit 2 naming what answers it.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {fitQuestion} from '../../src/lib/cli/terminal-prompter.js'
import {canPrompt, isCI, prompter, usePrompter, type Prompter} from '../../src/lib/prompt.js'
import {ROOT} from './helpers.js'

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })

const fake: Prompter = {
  input: async (q) => `input:${q.message}`,
  password: async () => 'secret',
  number: async () => 3,
  select: async (q) => q.choices[0]!.value,
  confirm: async () => true,
}

describe('prompt port', () => {
  const tty = process.stdin.isTTY
  const ci = process.env.CI
  afterEach(() => {
    usePrompter(undefined)
    Object.defineProperty(process.stdin, 'isTTY', {value: tty, configurable: true})
    if (ci === undefined) delete process.env.CI
    else process.env.CI = ci
  })

  it('without a terminal every question fails with exit 2 (NO_TTY), naming the answers', async () => {
    usePrompter(fake)
    Object.defineProperty(process.stdin, 'isTTY', {value: undefined, configurable: true})
    await expect(prompter(['--generate', 'export X=…']).password({message: 'New password'})).rejects.toMatchObject({
      exitCode: 2,
      code: 'NO_TTY',
      message: 'New password needs an answer, and obsctl does not prompt without a terminal (or with CI set)',
      hints: ['--generate', 'export X=…'],
    })
  })

  it('on a terminal with CI unset, the installed prompter asks; CI set or nothing installed means no questions', async () => {
    Object.defineProperty(process.stdin, 'isTTY', {value: true, configurable: true})
    delete process.env.CI
    expect(canPrompt()).toBe(false) // nothing installed (a library caller)
    usePrompter(fake)
    expect(canPrompt()).toBe(true)
    expect(await prompter().input({message: 'name'})).toBe('input:name')
    expect(await prompter().select({message: 'pick', choices: [{name: 'a', value: 'a'}]})).toBe('a')
    process.env.CI = 'true'
    expect(isCI()).toBe(true)
    await expect(prompter(['--yes']).confirm({message: 'go on?'})).rejects.toMatchObject({code: 'NO_TTY', hints: ['--yes']})
  })

  it('no file under src/lib imports a prompt library except the terminal side of the port', () => {
    const offenders = files(path.join(ROOT, 'src/lib'))
      .filter((f) => !f.endsWith(path.join('cli', 'terminal-prompter.ts')))
      .filter((f) => /from '@inquirer\/|import\('@inquirer\//.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(ROOT, f))
    expect(offenders).toEqual([])
  })
})

describe('a question on a terminal (terminal-prompter fitQuestion; the real one in ./terminal.test.ts)', () => {
  it('fitted at spaces under the text after `? `, room kept on the last line for ` (y/N)`; a URL whole; no width: as it is', () => {
    const q = 'remove cluster-04 (https://192.168.101.198:6443):\n  1. Delete its Argo CD Applications (and what they deployed)\nGo ahead?'
    expect(fitQuestion(q, undefined)).toBe(q)
    expect(fitQuestion(q, 200, 7)).toBe(q.replace(/\n/g, '\n  '))
    // (inquirer writes `? ` before it)
    expect(`? ${fitQuestion(q, 40, 7)}`.split('\n')).toEqual([
      '? remove cluster-04',
      '  (https://192.168.101.198:6443):',
      '    1. Delete its Argo CD Applications',
      '       (and what they deployed)',
      '  Go ahead?',
    ])
    // 30 columns to the `?` of `change?`: no room for ` (y/N)` beside it, so the word goes on the next line
    expect(`? ${fitQuestion('commit and push this change?', 30, 7)}`.split('\n')).toEqual(['? commit and push this', '  change?'])
    // a last word that leaves no room beside it: what inquirer writes goes on a line of its own (after a space)
    expect(`? ${fitQuestion('see https://git.example.test/a/very/long/path', 30, 7)}`.split('\n')).toEqual([
      '? see',
      '  https://git.example.test/a/very/long/path',
      ' ',
    ])
  })
})
