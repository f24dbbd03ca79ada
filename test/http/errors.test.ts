import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HookNotFoundError, ThrottleError, WorkflowRunNotFoundError, WorkflowWorldError } from '@workflow/errors'
import { codesOfStatus, describeError, ERROR_CODES } from '../../http/errors.js'
import { DomainError } from '../../lib/errors.js'
import { errorFromWire, WORLD_ERROR_CODES } from '../../lib/wire/world-errors.js'

/** The statuses the worker's callers rely on, code by code: a change here is a change of the API. */
const ANSWERED = {
  400: ['validation_error', 'idempotency_key_required'],
  401: ['unauthorized', 'invalid_signature'],
  403: ['forbidden', 'https_required'],
  404: ['not_found', 'run_not_found', 'deployment_not_found', 'hook_not_found', 'workflow_not_found', 'step_not_found', 'stream_not_found'],
  409: ['idempotency_conflict', 'idempotency_in_progress', 'no_active_deployment', 'run_already_finished', 'entity_conflict', 'hook_conflict', 'stream_closed'],
  410: ['run_expired'],
  412: ['precondition_failed'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['run_not_supported'],
  425: ['too_early'],
  429: ['rate_limited'],
  500: ['internal_error'],
  501: ['not_implemented'],
  503: ['not_ready']
} as const

test('the table gives every code the worker answers with its status', () => {
  for (const [status, codes] of Object.entries(ANSWERED)) {
    for (const code of codes) {
      assert.equal(ERROR_CODES[code].status, Number(status), code)
      assert.equal(describeError(new DomainError(code, 'm')).statusCode, Number(status), `a DomainError ${code}`)
    }
    assert.deepEqual(codesOfStatus(Number(status)).map(({ code }) => code).sort(), [...codes].sort(), `the codes documented for ${status}`)
  }
})

test('the World codes of the table are the World error table\'s, which the client revives classes from', () => {
  for (const { code, status, className } of WORLD_ERROR_CODES) {
    assert.equal(ERROR_CODES[code].status, status, code)
    assert.equal(errorFromWire(status, { code, message: 'm' }, null).name, className, `${status} ${code} revives ${className}`)
  }
})

test('a route may answer a code with another status; a DomainError carries its details and Retry-After', () => {
  const none = new DomainError('no_active_deployment', 'No deployment is active')
  assert.equal(describeError(none).statusCode, 409)
  assert.equal(describeError(none, { errorStatus: { no_active_deployment: 404 } }).statusCode, 404)
  assert.deepEqual(describeError(new DomainError('idempotency_in_progress', 'busy', { details: { key: 'k' }, retryAfter: 1.2 })), {
    statusCode: 409, code: 'idempotency_in_progress', message: 'busy', details: { key: 'k' }, headers: { 'retry-after': '2' }
  })
})

test('World errors: the internal lane keeps their class name and fields, the public lane says its own sentence', () => {
  const missing = new WorkflowRunNotFoundError('wrun_1')
  assert.deepEqual(describeError(missing, { worldLane: true }).details, { name: 'WorkflowRunNotFoundError', runId: 'wrun_1' })
  assert.deepEqual(describeError(missing), { statusCode: 404, code: 'run_not_found', message: 'Run wrun_1 does not exist', headers: undefined })
  const noHook = describeError(new HookNotFoundError('secret-token'))
  assert.equal(noHook.details, undefined)
  assert.doesNotMatch(noHook.message, /secret-token/)
  assert.deepEqual(describeError(new ThrottleError('slow', { retryAfter: 3 })).headers, { 'retry-after': '3' })
  // A World that speaks HTTP itself keeps its status.
  assert.equal(describeError(new WorkflowWorldError('upstream', { status: 502 })).statusCode, 502)
  // Refusals that are not the World's carry the class the client rebuilds from status and code.
  assert.equal(describeError(new DomainError('stream_closed', 'closed'), { worldLane: true }).details?.name, 'EntityConflictError')
  assert.equal(describeError(new DomainError('validation_error', 'bad'), { worldLane: true }).details?.name, 'WorkflowWorldError')
})

test('errors carrying only a status keep it, with the code of that status', () => {
  const bare = (statusCode: number) => describeError(Object.assign(new Error('x'), { statusCode }))
  assert.deepEqual([400, 404, 405, 413, 415, 429].map((status) => [bare(status).statusCode, bare(status).code]), [
    [400, 'validation_error'], [404, 'not_found'], [405, 'method_not_allowed'], [413, 'payload_too_large'], [415, 'unsupported_media_type'], [429, 'rate_limited']
  ])
  assert.equal(bare(418).code, 'bad_request')
  // A plain error saying "not found" is not the World's: a bug, not a 404.
  assert.equal(describeError(new Error('Class "Foo" not found. Make sure the class is registered')).statusCode, 500)
})
