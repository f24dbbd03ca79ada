import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')
const RULES = ['local/no-outside-references', 'local/docs-citations']

/**
 * ESLint's Node API with the repository's config, in a plain Node process: neostandard's
 * dependencies do not load under the tsx loader the tests run with. It lints each sample as the
 * source file it names and answers the messages of our rules, and the config's pattern.
 */
const LINT_SAMPLES = `
import { ESLint } from 'eslint'
import { OUTSIDE_REFERENCE } from './eslint.config.js'
const samples = JSON.parse(await new Response(process.stdin).text())
const eslint = new ESLint({ overrideConfigFile: 'eslint.config.js' })
const reports = []
for (const { code, filePath } of samples) {
  const [result] = await eslint.lintText(code, { filePath })
  reports.push(result.messages.filter((message) => ${JSON.stringify(RULES)}.includes(message.ruleId)).map((message) => message.message))
}
process.stdout.write(JSON.stringify({ reports, pattern: OUTSIDE_REFERENCE.source, flags: OUTSIDE_REFERENCE.flags }))
`

interface Sample { code: string, filePath?: string }

/** Our rules' messages for each sample, and the config's pattern. */
function lint (samples: Sample[]): { reports: string[][], pattern: RegExp } {
  const input = JSON.stringify(samples.map(({ code, filePath = 'lib/sample.ts' }) => ({ code, filePath: join(root, filePath) })))
  const output = execFileSync(process.execPath, ['--input-type=module', '--eval', LINT_SAMPLES], { cwd: root, input, encoding: 'utf8' })
  const { reports, pattern, flags } = JSON.parse(output) as { reports: string[][], pattern: string, flags: string }
  return { reports, pattern: new RegExp(pattern, flags) }
}

// The forbidden markers are assembled here, so that this file does not itself hold what it tests.
const SECTION = '\u00a7'
const SPEC_DIR = ['shared', 'spec'].join('/')
const md = (name: string): string => `${name}.md`

test('the lint rule reports comments and strings that point to documents outside the repository', () => {
  const samples = [
    `// Contract ${SECTION}3: a JSON route given text/plain is 415.\nexport const a = 1\n`,
    '/** As start() does ([C] runtime/start.js). */\nexport const a = 1\n',
    `/* see /work/${SPEC_DIR}/${md('compute')} */\nexport const a = 1\n`,
    `// ${md('world-proxy-protocol')}, the queue handler\nexport const a = 1\n`,
    `// the retry policy of ${md('contract')}\nexport const a = 1\n`,
    '/** Everything it reads (contract section 2). */\nexport const a = 1\n',
    `export const a = 'protocol ${SECTION}0.1: a 401 body names its error class'\n`,
    `export const a = \`see ${md('compute')}\`\n`
  ].map((code) => ({ code }))
  const { reports } = lint([...samples, { code: `// see ${SECTION}4\nexport const a = 1\n`, filePath: 'bench/sample.mjs' }])
  reports.forEach((messages, i) => assert.equal(messages.length, 1, `${samples[i]?.code ?? 'a .mjs file'}: ${JSON.stringify(messages)}`))
  assert.match(reports[0][0], new RegExp(`"${SECTION}" points outside the repository`))
})

test('the lint rule lets self-contained comments and pointers to docs/ pass', () => {
  const code = [
    '// A JSON route given text/plain is 415 unsupported_media_type (docs/architecture.md).',
    "/** As start() does in @workflow/core 4.8.9's runtime/start.js. */",
    "export const pattern = '^[a-z]+$'",
    'export const files = [`lib/schemas/compute.ts`]',
    ''
  ].join('\n')
  assert.deepEqual(lint([{ code }]).reports, [[]])
})

test('no Markdown file of the repository points to documents outside it', () => {
  const { pattern } = lint([])
  const files = execFileSync('git', ['ls-files', '*.md'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean)
  assert.ok(files.includes('README.md') && files.includes('docs/README.md'), 'git lists the Markdown files')
  const offending = files.flatMap((file) => readFileSync(join(root, file), 'utf8').split('\n')
    .flatMap((line, index) => pattern.test(line) ? [`${file}:${index + 1}: ${line}`] : []))
  assert.deepEqual(offending, [])
})

test('the lint rule reports a comment citing a docs/ file that does not exist, or a section that is not its heading', () => {
  const samples = [
    '// See docs/no-such-page.md.\nexport const a = 1\n',
    '/** As the lane does (docs/world-lane.md, "Encryption"). */\nexport const a = 1\n',
    '/**\n * Each deployment in its own thread (docs/architecture.md,\n * "Threads").\n */\nexport const a = 1\n',
    '// docs/screenshots/none.png\nexport const a = 1\n'
  ]
  const { reports } = lint(samples.map((code) => ({ code })))
  assert.deepEqual(reports, [
    ['"docs/no-such-page.md" is not a file of the repository'],
    ['"Encryption" is not a heading of docs/world-lane.md'],
    ['"Threads" is not a heading of docs/architecture.md'],
    ['"docs/screenshots/none.png" is not a file of the repository']
  ])
})

test('the lint rule lets citations of docs/ files and of their headings pass', () => {
  const code = [
    '// docs/world-lane.md, "The queue handler"; docs/control-plane.md.',
    '/**',
    ' * A heading with code in it, cited without its backticks (docs/architecture.md,',
    ' * "A trigger: POST /v1/runs"), or with them (docs/architecture.md, "A trigger: `POST /v1/runs`").',
    ' */',
    '// The picture: docs/trace-of-a-run.svg',
    'export const a = 1',
    ''
  ].join('\n')
  assert.deepEqual(lint([{ code }]).reports, [[]])
})
