import assert from 'node:assert/strict'
import { homedir, tmpdir } from 'node:os'
import { test } from 'node:test'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { KEYS, bearer, build } from '../helper.js'
import { deployFixture, triggerRun, waitForRun } from '../public-lane.js'
import { getPage, signIn } from '../routes/ui/helper.js'

// Every absolute path the machine could show in a stack frame: the artifact dir, the
// repository (node_modules), the temp dir and the home dir.
function assertNoServerPath (stack: string, dirs: string[], where: string): void {
  for (const dir of dirs) assert.ok(!stack.includes(dir), `${where} names ${dir}:\n${stack}`)
  assert.doesNotMatch(stack, /(?:^|[\s(])(?:file:\/\/)?\/[^\s/]+\//m, `${where} holds an absolute path:\n${stack}`)
}

test('a failed run\'s stack names files relative to its deployment, never the server\'s directories', async (t) => {
  const { app, options } = await build(t, { compute: createInProcessCompute() })
  const { id } = await deployFixture(app)
  const res = await triggerRun(app, { workflowName: 'fatal', input: ['boom'] })
  assert.equal(res.statusCode, 202, res.body)
  const run = await waitForRun(app, res.json().runId, (run) => run.status === 'failed')
  const dirs = [String(options.artifactDir), process.cwd(), tmpdir(), homedir()]

  const stack: string = run.error.stack
  assert.match(stack, /fatal: boom/)
  // The failing step's frame: its source file when source maps are on (the tests' tsx loader
  // turns them on), else the deployment's bundle.
  assert.match(stack, new RegExp(`at failFatallyStep \\((?:workflows/demo\\.ts|${id}/step\\.js):\\d+:\\d+\\)`), 'the frame names the file')
  assertNoServerPath(stack, dirs, 'GET /v1/runs/:id')

  const events = await app.inject({ url: `/v1/runs/${run.runId}/events`, headers: bearer(KEYS.runsRead) })
  const errors = events.json().data.flatMap((event: any) => event.data?.error?.stack ?? [])
  // The event list shows an event's error only when the World loaded it with the event.
  for (const eventStack of errors) assertNoServerPath(eventStack, dirs, 'GET /v1/runs/:id/events')

  const reader = await signIn(app, KEYS.runsRead)
  const page = await getPage(app, `/ui/runs/${run.runId}`, reader.cookie)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /fatal: boom/)
  assertNoServerPath(page.body, dirs, 'the dashboard\'s run page')
})
