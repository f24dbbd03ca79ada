import neostandard from 'neostandard'

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
    plugins: { local: { rules: { 'no-outside-references': noOutsideReferences } } },
    rules: { 'local/no-outside-references': 'error' }
  }
]
