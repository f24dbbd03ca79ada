import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { loggerOptions } from '../../../../lib/logging.js'
import { FrameDecoder, FrameKind } from '../../../../lib/wire/frames.js'
import { KEYS, bearer, build } from '../../../helper.js'
import { createRun, lane, runCreated } from '../../../world-lane.js'

const LANE_ROUTES: Array<[method: 'GET' | 'POST', url: string]> = [
  ['POST', '/v1/queue/publish'],
  ['GET', '/v1/world/deployment-id'],
  ['GET', '/v1/world/deployment-id/latest'],
  ['GET', '/v1/world/info'],
  ['POST', '/v1/world/events/create'],
  ['POST', '/v1/world/events/list'],
  ['POST', '/v1/world/events/list-by-correlation'],
  ['GET', '/v1/world/events/wrun_1/evnt_1'],
  ['POST', '/v1/world/runs/list'],
  ['GET', '/v1/world/runs/wrun_1'],
  ['GET', '/v1/world/steps/step_1'],
  ['POST', '/v1/world/steps/list'],
  ['GET', '/v1/world/hooks/hook_1'],
  ['GET', '/v1/world/hooks/by-token/tok'],
  ['GET', '/v1/world/hooks/by-token?token=tok'],
  ['POST', '/v1/world/hooks/list'],
  ['POST', '/v1/world/streams/write'],
  ['POST', '/v1/world/streams/close'],
  ['GET', '/v1/world/streams/read?name=s'],
  ['GET', '/v1/world/streams/list?runId=wrun_1'],
  ['GET', '/v1/world/streams/chunks?name=s&runId=wrun_1'],
  ['GET', '/v1/world/streams/info?name=s&runId=wrun_1'],
  ['POST', '/v1/world/encryption-key']
]

test('every lane route needs a key with world:proxy, even the admin of the public lane is refused without it', async (t) => {
  const { app } = await build(t)
  for (const [method, url] of LANE_ROUTES) {
    const anonymous = await app.inject({ method, url })
    assert.equal(anonymous.statusCode, 401, `${method} ${url} without a key`)
    assert.equal(anonymous.json().name, 'WorkflowWorldError', 'a 401 body on the lane names its error class')
    for (const key of [KEYS.runsWrite, KEYS.none]) {
      const refused = await app.inject({ method, url, headers: bearer(key) })
      assert.equal(refused.statusCode, 403, `${method} ${url} with a public key`)
      assert.equal(refused.json().requiredScope, 'world:proxy')
      assert.equal(refused.json().name, 'WorkflowWorldError')
    }
  }
})

test('lane schema and media-type refusals carry a name too; public routes keep the contract\'s envelope without one', async (t) => {
  const { app } = await build(t)
  const invalid = await lane(app, 'POST', '/v1/world/runs/list', { status: 'sleeping' })
  assert.deepEqual([invalid.status, invalid.body.code, invalid.body.name], [400, 'validation_error', 'WorkflowWorldError'])
  assert.ok(Array.isArray(invalid.body.validation))
  const badQuery = await lane(app, 'GET', '/v1/world/streams/read?name=s&startIndex=first')
  assert.deepEqual([badQuery.status, badQuery.body.name], [400, 'WorkflowWorldError'])
  for (const url of ['/v1/world/runs/list', '/v1/world/streams/write?name=s&runId=wrun_1', '/v1/queue/publish']) {
    const plain = await app.inject({ method: 'POST', url, headers: { ...bearer(KEYS.worldProxy), 'content-type': 'text/plain' }, payload: '{}' })
    assert.deepEqual([plain.statusCode, plain.json().code, plain.json().name], [415, 'unsupported_media_type', 'WorkflowWorldError'], url)
  }

  const publicAnonymous = await app.inject({ method: 'GET', url: '/v1/runs/wrun_1' })
  assert.equal(publicAnonymous.statusCode, 401)
  assert.equal(publicAnonymous.json().name, undefined)
  const publicInvalid = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.admin), 'idempotency-key': 'lane-names-1' }, payload: { nope: true } })
  assert.deepEqual([publicInvalid.statusCode, publicInvalid.json().code, publicInvalid.json().name], [400, 'validation_error', undefined])
})

test('bytes and dates round-trip exactly, in tagged JSON and in CBOR', async (t) => {
  const { app, options } = await build(t)
  const input = new Uint8Array(300).map((_, i) => (i * 7) % 256)
  const runId = await createRun(app, input)
  const stored = await options.world.runs.get(runId)

  const json = await lane(app, 'GET', `/v1/world/runs/${runId}`)
  assert.equal(json.status, 200)
  assert.match(String(json.headers['content-type']), /^application\/json/)
  assert.deepEqual(json.body.input, input)
  assert.equal(json.body.createdAt, stored.createdAt.toISOString())

  const cbor = await lane(app, 'GET', `/v1/world/runs/${runId}`, undefined, { encoding: 'cbor' })
  assert.match(String(cbor.headers['content-type']), /^application\/cbor/)
  assert.deepEqual(cbor.body.input, input)
  assert.ok(cbor.body.createdAt instanceof Date)
  assert.equal(cbor.body.createdAt.getTime(), stored.createdAt.getTime())

  // A request body in CBOR, with a Buffer (a bare byte string) and a Date, lands as plain bytes.
  const resumeAt = new Date(Date.now() + 60_000)
  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } }, { encoding: 'cbor' })
  const wait = await lane(app, 'POST', '/v1/world/events/create',
    { runId, data: { eventType: 'wait_created', specVersion: 3, correlationId: 'wait_01', eventData: { resumeAt } } }, { encoding: 'cbor' })
  assert.equal(wait.status, 200, JSON.stringify(wait.body))
  assert.equal(wait.body.wait.resumeAt.getTime(), resumeAt.getTime())
  const step = await lane(app, 'POST', '/v1/world/events/create',
    { runId, data: { eventType: 'step_created', specVersion: 3, correlationId: 'step_01', eventData: { stepName: 's', input: Buffer.from([9, 8, 7]) } } },
    { encoding: 'cbor' })
  assert.equal(step.status, 200, JSON.stringify(step.body))
  const storedStep = await options.world.steps.get(runId, 'step_01')
  assert.equal(Object.getPrototypeOf(storedStep.input), Uint8Array.prototype, 'stored as bytes, not as { type: "Buffer" }')
  assert.deepEqual(storedStep.input, new Uint8Array([9, 8, 7]))
})

test('World errors carry their name and status; 4xx never become 5xx', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)

  const missingRun = await lane(app, 'GET', '/v1/world/runs/wrun_01J00000000000000000000000')
  assert.equal(missingRun.status, 404)
  assert.equal(missingRun.body.code, 'run_not_found')
  assert.equal(missingRun.body.name, 'WorkflowRunNotFoundError')
  assert.equal(missingRun.body.runId, 'wrun_01J00000000000000000000000')

  const missingHook = await lane(app, 'GET', '/v1/world/hooks/by-token?token=nope')
  assert.deepEqual([missingHook.status, missingHook.body.name], [404, 'HookNotFoundError'])

  const missingStep = await lane(app, 'GET', `/v1/world/steps/step_nope?runId=${runId}`)
  assert.deepEqual([missingStep.status, missingStep.body.code], [404, 'step_not_found'])

  const duplicate = await lane(app, 'POST', '/v1/world/events/create', { runId, data: runCreated() })
  assert.deepEqual([duplicate.status, duplicate.body.name], [409, 'EntityConflictError'])

  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_cancelled', specVersion: 3 } })
  const restart = await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } })
  assert.deepEqual([restart.status, restart.body.name], [410, 'RunExpiredError'])

  const unsafe = await lane(app, 'GET', '/v1/world/runs/..%2Fetc')
  assert.equal(unsafe.status, 400)

  const future = await lane(app, 'POST', '/v1/world/events/create', { runId: null, data: { ...runCreated(), specVersion: 99 } })
  assert.deepEqual([future.status, future.body.name, future.body.worldSpecVersion], [422, 'RunNotSupportedError', 3])
})

test('too-early step starts are 425 with retry-after, as the runtime expects to defer them', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } })
  await lane(app, 'POST', '/v1/world/events/create',
    { runId, data: { eventType: 'step_created', specVersion: 3, correlationId: 'step_a', eventData: { stepName: 's', input: new Uint8Array([1]) } } })
  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'step_started', specVersion: 3, correlationId: 'step_a' } })
  await lane(app, 'POST', '/v1/world/events/create', {
    runId,
    data: { eventType: 'step_retrying', specVersion: 3, correlationId: 'step_a', eventData: { error: { message: 'x' }, retryAfter: new Date(Date.now() + 30_000) } }
  })
  const early = await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'step_started', specVersion: 3, correlationId: 'step_a' } })
  assert.equal(early.status, 425, JSON.stringify(early.body))
  assert.equal(early.body.name, 'TooEarlyError')
  assert.ok(Number(early.headers['retry-after']) > 0)
})

test('events.create answers its two surprising 200s unchanged: hook_conflict and run_started on a running run', async (t) => {
  const { app } = await build(t)
  const first = await createRun(app)
  const second = await createRun(app)
  for (const runId of [first, second]) {
    await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } })
  }
  const hook = (runId: string, hookId: string) => lane(app, 'POST', '/v1/world/events/create', {
    runId, data: { eventType: 'hook_created', specVersion: 3, correlationId: hookId, eventData: { token: 'approval:42' } }
  })
  const owner = await hook(first, 'hook_a')
  assert.equal(owner.status, 200)
  assert.equal(owner.body.hook.token, 'approval:42')

  const conflict = await hook(second, 'hook_b')
  assert.equal(conflict.status, 200, 'a taken token is not an HTTP error')
  assert.equal(conflict.body.event.eventType, 'hook_conflict')
  assert.equal(conflict.body.hook, undefined)

  const again = await lane(app, 'POST', '/v1/world/events/create', { runId: first, data: { eventType: 'run_started', specVersion: 3 } })
  assert.equal(again.status, 200)
  assert.equal(again.body.event, undefined, 'no event for a run already running')
  assert.equal(again.body.run.status, 'running')
})

test('events for runs that do not exist are refused before the World stores them', async (t) => {
  const { app, options } = await build(t)
  const ghost = 'wrun_01J00000000000000000000000'
  for (const data of [
    { eventType: 'run_cancelled', specVersion: 3 },
    { eventType: 'hook_received', specVersion: 3, correlationId: 'hook_x', eventData: { payload: new Uint8Array([1]) } }
  ]) {
    const answer = await lane(app, 'POST', '/v1/world/events/create', { runId: ghost, data })
    assert.deepEqual([answer.status, answer.body.name], [404, 'WorkflowRunNotFoundError'], data.eventType)
  }
  assert.deepEqual((await options.world.events.list({ runId: ghost })).data, [], 'nothing was recorded')

  // The SDK's resilient start: run_started carrying the run's data creates the missing run.
  const resilient = await lane(app, 'POST', '/v1/world/events/create', {
    runId: 'wrun_01KB2Z3A4B5C6D7E8F9G0H1J2K',
    data: { eventType: 'run_started', specVersion: 3, eventData: { deploymentId: 'dpl_test', workflowName: 'w', input: new Uint8Array([1]) } }
  })
  assert.notEqual(resilient.status, 404, JSON.stringify(resilient.body))

  const withoutRun = await lane(app, 'POST', '/v1/world/events/create', { runId: null, data: { eventType: 'run_cancelled', specVersion: 3 } })
  assert.equal(withoutRun.status, 400)
  const worldOnly = await lane(app, 'POST', '/v1/world/events/create',
    { runId: ghost, data: { eventType: 'hook_conflict', correlationId: 'h', eventData: { token: 't' } } })
  assert.equal(worldOnly.status, 400, 'hook_conflict is the World\'s to create')
})

test('cursors pass through verbatim; a malformed one is 400 so the runtime reloads without it', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } })
  const first = await lane(app, 'POST', '/v1/world/events/list', { runId, pagination: { limit: 1 } })
  assert.equal(first.status, 200)
  assert.equal(first.body.data.length, 1)
  assert.equal(first.body.hasMore, true)
  const second = await lane(app, 'POST', '/v1/world/events/list', { runId, pagination: { limit: 1, cursor: first.body.cursor } })
  assert.equal(second.body.data[0].eventType, 'run_started')
  assert.equal(typeof second.body.cursor, 'string', 'the last cursor is kept even without more pages')

  for (const url of ['/v1/world/events/list', '/v1/world/steps/list']) {
    const bad = await lane(app, 'POST', url, { runId, pagination: { cursor: 'garbage' } })
    assert.deepEqual([bad.status, bad.body.name], [400, 'WorkflowWorldError'], url)
  }
  const huge = await lane(app, 'POST', '/v1/world/events/list', { runId, pagination: { limit: 50_000 } })
  assert.equal(huge.status, 200, 'limits above 1000 are clamped')
})

test('answers are never cached and hook tokens in URLs never reach the logs', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(chunk.toString()); done() } })
  const { app } = await build(t, { logger: { ...loggerOptions('info'), stream } })
  const ok = await lane(app, 'GET', '/v1/world/deployment-id')
  const missing = await lane(app, 'GET', '/v1/world/hooks/by-token/secret-token-in-path')
  const query = await lane(app, 'GET', '/v1/world/hooks/by-token?token=secret-token-in-query')
  for (const answer of [ok, missing, query]) assert.equal(answer.headers['cache-control'], 'no-store')
  assert.deepEqual([missing.status, query.status], [404, 404])
  const text = lines.join('')
  assert.ok(text.includes('/v1/world/hooks/by-token'), 'the requests were logged')
  assert.equal(text.includes('secret-token-in-path'), false)
  assert.equal(text.includes('secret-token-in-query'), false)
})

test('hooks are found by token in the path (URL-encoded) and in the query', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  await lane(app, 'POST', '/v1/world/events/create', { runId, data: { eventType: 'run_started', specVersion: 3 } })
  const token = 'order/42?x=y'
  await lane(app, 'POST', '/v1/world/events/create',
    { runId, data: { eventType: 'hook_created', specVersion: 3, correlationId: 'hook_1', eventData: { token, metadata: new Uint8Array([5]) } } })
  const byPath = await lane(app, 'GET', `/v1/world/hooks/by-token/${encodeURIComponent(token)}`)
  const byQuery = await lane(app, 'GET', `/v1/world/hooks/by-token?token=${encodeURIComponent(token)}`)
  const byId = await lane(app, 'GET', '/v1/world/hooks/hook_1?resolveData=none')
  assert.deepEqual([byPath.status, byQuery.status, byId.status], [200, 200, 200])
  assert.equal(byPath.body.hookId, 'hook_1')
  assert.deepEqual(byQuery.body.metadata, new Uint8Array([5]))
  assert.equal('metadata' in byId.body, false, 'resolveData=none leaves metadata out')
})

test('event bodies may be megabytes; envelopes keep the 1 MiB default', async (t) => {
  const { app } = await build(t)
  const big = new Uint8Array(3 * 1024 * 1024).fill(7)
  const runId = await createRun(app, big)
  const run = await lane(app, 'GET', `/v1/world/runs/${runId}`, undefined, { encoding: 'cbor' })
  assert.equal(run.body.input.byteLength, big.byteLength)
  const list = await lane(app, 'POST', '/v1/world/runs/list', { workflowName: 'x'.repeat(1000), pagination: { cursor: 'y'.repeat(1_100_000) } })
  assert.equal(list.status, 413)
  assert.equal(list.body.code, 'payload_too_large')
})

test('world info, deployment id and encryption key (null: world-local does not encrypt)', async (t) => {
  const { app } = await build(t)
  const info = await lane(app, 'GET', '/v1/world/info')
  assert.deepEqual({ ...info.body, deploymentId: typeof info.body.deploymentId },
    { specVersion: 3, deploymentId: 'string', encryption: false, resolveLatestDeployment: false })
  const latest = await lane(app, 'GET', '/v1/world/deployment-id/latest')
  assert.equal(latest.status, 501)
  const runId = await createRun(app)
  const key = await lane(app, 'POST', '/v1/world/encryption-key', { runId })
  assert.deepEqual([key.status, key.body], [200, { key: null }])
  assert.equal(key.headers['cache-control'], 'no-store')
})

test('lane mutations are audited as aggregated rows, not one row per call', async (t) => {
  const { app } = await build(t)
  for (let i = 0; i < 5; i++) {
    await lane(app, 'POST', '/v1/world/events/create', { runId: 'wrun_01J00000000000000000000000', data: { eventType: 'run_cancelled', specVersion: 3 } })
  }
  const created = await lane(app, 'POST', '/v1/world/events/create', {
    runId: null,
    data: { eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'd', workflowName: 'w', input: new Uint8Array([1]) } }
  }, { headers: { 'x-workflow-correlation-id': 'corr-audit-1' } })
  await lane(app, 'GET', '/v1/world/deployment-id')
  assert.equal((await app.auditLog.recent()).length, 0, 'nothing written per request')

  app.auditAggregator.flush()
  const rows = (await app.auditLog.recent())
  assert.equal(rows.length, 1, 'one row for the key and action')
  const [row] = rows
  assert.equal(row.action, 'world.events.create')
  assert.equal(row.outcome, 'partial')
  assert.equal(row.metadata.count, 6)
  assert.equal(row.metadata.failures, 5)
  assert.deepEqual(row.metadata.statuses, { 200: 1, 404: 5 })
  assert.deepEqual(row.metadata.kinds, { run_cancelled: 5, run_created: 1 })
  assert.ok((row.metadata.runIds as string[]).includes('wrun_01J00000000000000000000000'))
  assert.equal(typeof row.metadata.correlationId, 'string')
  assert.equal(created.status, 200)
})

// The timeout is the assertion: at the default pace (15 s) the third PING would come too late.
test('lanePingIntervalMs reaches live reads: a silent stream pings at that pace', { timeout: 10_000 }, async (t) => {
  const { app } = await build(t, { lanePingIntervalMs: 20 })
  const res = await app.inject({ method: 'GET', url: '/v1/world/streams/read?name=strm_silent', headers: bearer(KEYS.worldProxy), payloadAsStream: true })
  assert.equal(res.statusCode, 200)
  const decoder = new FrameDecoder()
  const kinds: number[] = []
  for await (const chunk of res.stream()) {
    kinds.push(...decoder.push(chunk as Uint8Array).map((frame) => frame.kind))
    if (kinds.length >= 3) break
  }
  assert.deepEqual(kinds.slice(0, 3), [FrameKind.PING, FrameKind.PING, FrameKind.PING])
})

test('a runtime key with its own rate limit is not throttled like the default', async (t) => {
  const runtimeKey = 'test-key-runtime-high-limit-000000001'
  const { app } = await build(t, {
    rateLimitPerMinute: 5,
    seedApiKeys: [
      { key: KEYS.worldProxy, scopes: ['world:proxy'] },
      { key: runtimeKey, scopes: ['world:proxy'], rateLimitPerMinute: 10_000 }
    ]
  })
  const statuses = async (key: string) => {
    const seen: number[] = []
    for (let i = 0; i < 12; i++) seen.push((await app.inject({ url: '/v1/world/deployment-id', headers: bearer(key) })).statusCode)
    return seen
  }
  const throttled = await statuses(KEYS.worldProxy)
  assert.deepEqual(throttled.slice(0, 5), [200, 200, 200, 200, 200])
  assert.ok(throttled.slice(5).every((status) => status === 429), `default key: ${throttled.join(',')}`)
  assert.ok((await statuses(runtimeKey)).every((status) => status === 200), 'the runtime key kept going')
})
