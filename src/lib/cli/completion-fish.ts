/**
 * Fish completions for obsctl, made from the commands oclif knows (ids, summaries, flags), since
 * @oclif/plugin-autocomplete writes bash, zsh and PowerShell only. Fish loads the printed script from
 * ~/.config/fish/completions/obsctl.fish (`obsctl autocomplete script fish > …`).
 *
 * Topics are separated by spaces (`obsctl cluster add`): a word is offered when the words typed so far
 * (flags left out) are exactly its topic; a command's flags once the words typed start with its id.
 */
export interface FishCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  flags: Record<string, {char?: string; summary?: string; description?: string; hidden?: boolean; type: string; options?: readonly string[]}>
}

const q = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
export function fishCompletion(bin: string, commands: FishCommand[], topics: Record<string, string | undefined> = {}): string {
  const firstLine = (s?: string) => (s ?? '').split('\n')[0]!.trim().replaceAll('<%= config.bin %>', bin)
  const fn = `__${bin.replaceAll(/\W/g, '_')}`
  const lines = [
    `# ${bin} completions for fish: made by \`${bin} autocomplete script fish\`; run it again after an upgrade.`,
    `complete -c ${bin} -f`,
    `function ${fn}_words --description 'the words typed after ${bin}, flags left out'`,
    `  for t in (commandline -opc)[2..-1]`,
    `    string match -q -- '-*' $t; or echo $t`,
    `  end`,
    `end`,
    `function ${fn}_at --description 'true when the words typed are exactly the arguments'`,
    `  set -l w (${fn}_words)`,
    `  test "$w" = "$argv"`,
    `end`,
    `function ${fn}_in --description 'true when the words typed start with the arguments'`,
    `  set -l w (${fn}_words)`,
    `  set -l n (count $argv)`,
    `  test (count $w) -ge $n; or return 1`,
    `  test "$w[1..$n]" = "$argv"`,
    `end`,
  ]
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  // the next word after each topic path: sub-topics and commands
  const next = new Map<string, Map<string, string>>()
  for (const c of visible) {
    const words = c.id.split(':')
    for (let i = 0; i < words.length; i++) {
      const at = words.slice(0, i).join(' ')
      const id = words.slice(0, i + 1).join(':')
      const desc = i === words.length - 1 ? firstLine(c.summary ?? c.description) : firstLine(topics[id])
      const m = next.get(at) ?? new Map<string, string>()
      if (!m.has(words[i]!) || desc) m.set(words[i]!, desc)
      next.set(at, m)
    }
  }
  for (const [at, words] of next) {
    for (const [word, desc] of words) {
      lines.push(`complete -c ${bin} -n ${q(`${fn}_at ${at}`.trim())} -a ${q(word)}${desc ? ` -d ${q(desc)}` : ''}`)
    }
  }
  for (const c of visible) {
    const cond = q(`${fn}_in ${c.id.split(':').join(' ')}`)
    for (const [name, f] of Object.entries(c.flags).sort(([a], [b]) => a.localeCompare(b))) {
      if (f.hidden) continue
      const desc = firstLine(f.summary ?? f.description)
      const value = f.type === 'option' ? (f.options?.length ? ` -x -a ${q(f.options.join(' '))}` : ' -r -F') : ''
      lines.push(`complete -c ${bin} -n ${cond} -l ${name}${f.char ? ` -s ${f.char}` : ''}${value}${desc ? ` -d ${q(desc)}` : ''}`)
    }
  }
  return `${lines.join('\n')}\n`
}
