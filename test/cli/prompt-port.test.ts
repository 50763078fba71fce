/**
 * The prompt port (src/lib/prompt.ts): lib code asks through it and never imports a prompt library; with no
 * terminal (or CI set, or nothing installed) a question fails with exit 2 naming what answers it.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
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
