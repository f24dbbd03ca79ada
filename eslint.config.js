import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import neostandard from 'neostandard'

const root = dirname(fileURLToPath(import.meta.url))

/**
 * References to documents a clone of the repository does not have: section signs ("§3"), the
 * design notes the project started from (contract.md, world-proxy-protocol.md, compute.md, a
 * "shared/spec" path, "contract section 3") and "[C]", shorthand for a file of @workflow/core's
 * dist. A comment must say what it means itself or point to docs/ (test/lint.test.ts keeps this
 * rule firing, and checks the Markdown files against the same pattern).
 */
export const OUTSIDE_REFERENCE = /§|shared\/spec|\bcontract\.md|world-proxy-protocol\.md|\bcompute\.md|\[C\]|\bcontract section\b/i

const noOutsideReferences = {
  meta: {
    type: 'problem',
    docs: { description: 'comments and strings name no document outside the repository' },
    messages: { outside: '"{{match}}" points outside the repository: say it here, or point to docs/' },
    schema: []
  },
  create (context) {
    const check = (node, text) => {
      const match = OUTSIDE_REFERENCE.exec(text)
      if (match) context.report({ node, messageId: 'outside', data: { match: match[0] } })
    }
    return {
      Program () {
        for (const comment of context.sourceCode.getAllComments()) check(comment, comment.value)
      },
      Literal (node) { if (typeof node.value === 'string') check(node, node.value) },
      TemplateElement (node) { check(node, node.value.raw) }
    }
  }
}

/**
 * A comment that cites the repository's documentation, `docs/<file>` and optionally a section
 * after it (`docs/world-lane.md, "The queue handler"`): the file must exist and the section must be
 * one of its headings (with or without the heading's backticks).
 */
export const DOCS_CITATION = /\bdocs\/[\w.-]+(?:\/[\w.-]+)*\.\w+(?:,? "([^"]+)")?/g

const headingsOf = new Map()
function headings (file) {
  if (!headingsOf.has(file)) {
    let inFence = false
    const found = new Set()
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence
      const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
      if (heading) found.add(heading[1]).add(heading[1].replaceAll('`', ''))
    }
    headingsOf.set(file, found)
  }
  return headingsOf.get(file)
}

const docsCitations = {
  meta: {
    type: 'problem',
    docs: { description: 'comments cite docs/ files that exist, and sections that are their headings' },
    messages: {
      noFile: '"{{path}}" is not a file of the repository',
      noSection: '"{{section}}" is not a heading of {{path}}'
    },
    schema: []
  },
  create (context) {
    return {
      Program () {
        for (const comment of context.sourceCode.getAllComments()) {
          // A citation may wrap onto the comment's next line.
          const text = comment.value.replace(/\s*\n\s*\*?\s*/g, ' ')
          for (const match of text.matchAll(DOCS_CITATION)) {
            const path = match[0].replace(/,? ".*$/s, '')
            const file = join(root, path)
            if (!existsSync(file)) context.report({ node: comment, messageId: 'noFile', data: { path } })
            else if (match[1] !== undefined && !headings(file).has(match[1])) {
              context.report({ node: comment, messageId: 'noSection', data: { path, section: match[1] } })
            }
          }
        }
      }
    }
  }
}

export default [
  ...neostandard({
    ts: true,
    ignores: [
      'dist/**',
      'test/fixtures/**/.well-known/**',
      'test/fixtures/.builds/**',
      'test/fixtures/**/node_modules/**'
    ]
  }),
  {
    rules: {
      // A TypeBox schema and its static type share one name (`const Run = Type.Object(…)`,
      // `type Run = Static<typeof Run>`), the convention of TypeBox and @fastify/type-provider-typebox.
      '@typescript-eslint/no-redeclare': 'off',
      // `void promise` marks a deliberate fire-and-forget call as a statement.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    ignores: ['eslint.config.js', 'test/lint.test.ts'],
    plugins: { local: { rules: { 'no-outside-references': noOutsideReferences, 'docs-citations': docsCitations } } },
    rules: { 'local/no-outside-references': 'error', 'local/docs-citations': 'error' }
  }
]
