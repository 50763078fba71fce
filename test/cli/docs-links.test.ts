/**
 * Every relative link of the project's Markdown (README, CONTRIBUTING, docs/, test/support/) leads somewhere:
 * the file or folder exists, and a `#fragment` is a heading of the page it points at, as GitHub makes its
 * anchors (github-slugger, the slugs GitHub's renderer gives headings; duplicates numbered). Links are read
 * by a Markdown lexer (marked), so code blocks and inline code are not links.
 */
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import GithubSlugger from 'github-slugger'
import {describe, expect, it} from 'vitest'
import {markdownPages, plainText, ROOT, walkMarkdown} from './helpers.js'

const pages = markdownPages({support: true, generated: true})

/** A page's links and its headings' anchors. */
function read(page: string): {links: string[]; anchors: Set<string>} {
  const links: string[] = []
  const slugger = new GithubSlugger()
  const anchors = new Set<string>()
  walkMarkdown(readFileSync(path.join(ROOT, page), 'utf8'), (t) => {
    if (t.type === 'link' || t.type === 'image') links.push(t.href)
    // the heading's text as GitHub renders it: inline code and emphasis without their marks
    if (t.type === 'heading') anchors.add(slugger.slug(plainText(t.tokens ?? [])))
    // explicit anchors in HTML (<a id="…">)
    if (t.type === 'html') for (const m of t.raw.matchAll(/\bid="([^"]+)"/g)) anchors.add(m[1]!)
  })
  return {links, anchors}
}

const cache = new Map<string, ReturnType<typeof read>>()
const parsed = (page: string) => cache.get(page) ?? cache.set(page, read(page)).get(page)!

describe('documentation links', () => {
  it('reads the pages and their headings as GitHub does (a known anchor)', () => {
    expect(pages).toContain('docs/gitops.md')
    expect(parsed('docs/gitops.md').anchors).toContain('cilium-one-owner-for-the-lb-pool')
    expect(parsed('docs/troubleshooting.md').links).toContain('output.md#request-traces---verbose')
  })

  it.each(pages)('%s: every relative link and fragment resolves', (page) => {
    const broken: string[] = []
    for (const href of parsed(page).links) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue // https:, mailto:
      const [target = '', fragment] = href.split('#') as [string, string | undefined]
      const file = target ? path.join(path.dirname(page), decodeURIComponent(target)) : page
      if (!existsSync(path.join(ROOT, file))) {
        broken.push(`${href}: no ${file}`)
        continue
      }
      if (fragment && file.endsWith('.md') && !parsed(file).anchors.has(decodeURIComponent(fragment).toLowerCase()))
        broken.push(`${href}: no heading #${fragment} in ${file}`)
    }
    expect(broken).toEqual([])
  })
})
