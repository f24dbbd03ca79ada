import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HookNotFoundError, ThrottleError, TooEarlyError, WorkflowRunNotFoundError, WorkflowWorldError } from '@workflow/errors'
import { KEYS, bearer, build, until, sqliteOf } from '../../helper.js'
import { executeBuildOn } from '../../fixture-executor.js'
import { deployFixture, triggerRun, waitForRun } from '../../public-lane.js'

const RUN_ID = 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F'

test('the public lane answers World errors with the internal lane\'s status and code, without its internals', async (t) => {
  const { app, options } = await build(t)
  let toThrow: Error = new Error('unset')
  // Fault injection on the real World: its reads throw whatever the case below needs.
  options.world.runs.get = async () => { throw toThrow }
  options.world.hooks.getByToken = async () => { throw toThrow }
  const getRun = () => app.inject({ method: 'GET', url: `/v1/runs/${RUN_ID}`, headers: bearer(KEYS.runsRead) })
  const resume = () => app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'secret-token', payload: 1 } })

  toThrow = new WorkflowRunNotFoundError(RUN_ID)
  const missing = await getRun()
  assert.equal(missing.statusCode, 404)
  assert.deepEqual(Object.keys(missing.json()).sort(), ['code', 'correlationId', 'message'])
  assert.deepEqual([missing.json().code, missing.json().message], ['run_not_found', `Run ${RUN_ID} does not exist`])

  toThrow = new HookNotFoundError('secret-token')
  const noHook = await resume()
  assert.equal(noHook.statusCode, 404)
  assert.equal(noHook.json().code, 'hook_not_found')
  assert.doesNotMatch(noHook.body, /secret-token|HookNotFoundError/, 'no token, no class name')

  toThrow = new ThrottleError('slow down', { retryAfter: 3 })
  const throttled = await getRun()
  assert.deepEqual([throttled.statusCode, throttled.json().code, throttled.headers['retry-after']], [429, 'rate_limited', '3'])

  toThrow = new TooEarlyError('not yet', { retryAfter: 2 })
  assert.deepEqual([(await getRun()).statusCode, (await getRun()).headers['retry-after']], [425, '2'])

  toThrow = Object.assign(new Error('bad id'), { name: 'ZodError' })
  assert.deepEqual([(await getRun()).statusCode, (await getRun()).json().code], [400, 'validation_error'])

  toThrow = new WorkflowWorldError('storage down', { status: 503 })
  assert.deepEqual([(await getRun()).statusCode, (await getRun()).json().code], [503, 'not_ready'])

  // The World's database out of reach (world-postgres's pool, a socket): not ready, worth a retry.
  toThrow = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
  const refused = await getRun()
  assert.deepEqual([refused.statusCode, refused.json().code], [503, 'not_ready'])
  assert.doesNotMatch(refused.body, /5432/)
  toThrow = new Error('query failed', { cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) })
  assert.deepEqual([(await getRun()).statusCode, (await getRun()).json().code], [503, 'not_ready'])

  toThrow = new Error('disk on fire')
  const unexpected = await getRun()
  assert.deepEqual([unexpected.statusCode, unexpected.json().code], [500, 'internal_error'])
  assert.doesNotMatch(unexpected.body, /disk/)
})

test('a hook of a run that has ended is hook_not_found, and nothing is recorded on the run', async (t) => {
  const { app, options } = await build(t)
  const world = options.world
  const { build: fixture } = await deployFixture(app)
  await executeBuildOn(t, world, fixture.dir)
  const run = (await triggerRun(app, { workflowName: 'approval', input: ['late'] })).json()
  await until(() => world.hooks.getByToken('approval:late').catch(() => undefined), 'the hook')
  // world-local's window between storing a run as finished and deleting its hooks, held open.
  const getRun = world.runs.get.bind(world.runs)
  world.runs.get = (async (...args: Parameters<typeof getRun>) => ({ ...await getRun(...args), status: 'completed' })) as typeof getRun
  const resume = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:late', payload } })

  const late = await resume('late')
  assert.deepEqual([late.statusCode, late.json().code], [404, 'hook_not_found'])
  const events = await world.events.list({ runId: run.runId, pagination: { limit: 100 } })
  assert.equal(events.data.some((event) => event.eventType === 'hook_received'), false)

  world.runs.get = getRun
  assert.equal((await resume('in time')).statusCode, 200)
  const done = await waitForRun(app, run.runId, (current) => current.status === 'completed')
  assert.deepEqual(done.output, { orderId: 'late', approved: 'in time' })
})

test('SQLite out of service: authenticated routes answer 503 not_ready, not 500', async (t) => {
  const { app } = await build(t)
  sqliteOf(app).close()
  const res = await app.inject({ method: 'GET', url: `/v1/runs/${RUN_ID}`, headers: bearer(KEYS.runsRead) })
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().code, 'not_ready')
  assert.equal(typeof res.json().correlationId, 'string')
})
