import neostandard from 'neostandard'

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
  }
]
