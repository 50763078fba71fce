/**
 * The terminal side of the prompt port (src/lib/prompt.ts): @inquirer/prompts, loaded on the first question,
 * writing to stderr so that stdout stays the command's report (or pure JSON under --json). Ctrl-C at a
 * question rejects with inquirer's ExitPromptError, which the base command turns into exit 130.
 */
import type {Prompter} from '../prompt.js'

const inquirer = () => import('@inquirer/prompts')
const context = {output: process.stderr}

export const terminalPrompter: Prompter = {
  async input(q) {
    return (await inquirer()).input(q, context)
  },
  async password(q) {
    return (await inquirer()).password({...q, mask: '*'}, context)
  },
  async number(q) {
    return (await inquirer()).number(q, context)
  },
  async select(q) {
    return (await inquirer()).select(q, context)
  },
  async confirm(q) {
    return (await inquirer()).confirm(q, context)
  },
}
