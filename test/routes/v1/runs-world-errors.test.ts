import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HookNotFoundError, ThrottleError, TooEarlyError, WorkflowRunNotFoundError, WorkflowWorldError } from '@workflow/errors'
import { KEYS, bearer, build } from '../../helper.js'

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
  assert.equal((await getRun()).statusCode, 503)

  toThrow = new Error('disk on fire')
  const unexpected = await getRun()
  assert.deepEqual([unexpected.statusCode, unexpected.json().code], [500, 'internal_error'])
  assert.doesNotMatch(unexpected.body, /disk/)
})
