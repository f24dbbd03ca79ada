import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hydrateWorkflowArguments } from '@workflow/core/serialization'
import type { World } from '@workflow/world'
import { KEYS, bearer, build } from '../../helper.js'
import { dropQueueDeliveries } from '../../fixture-executor.js'
import { deployFixture, triggerRun } from '../../public-lane.js'

async function runsIn (world: World): Promise<string[]> {
  const page = await world.runs.list({ pagination: { limit: 1000 }, resolveData: 'none' })
  return page.data.map((run) => run.runId)
}

test('POST /v1/runs creates the run exactly as start() does', async (t) => {
  const { app, options } = await build(t)
  const world = options.world
  const delivered: Array<{ queueName: string | null, correlationId: string | null, body: any }> = []
  ;(world as any).registerHandler('__wkf_workflow_', async (request: Request) => {
    delivered.push({ queueName: request.headers.get('x-vqs-queue-name'), correlationId: request.headers.get('x-workflow-correlation-id'), body: await request.json() })
    return Response.json({ ok: true })
  })
  const { id: deploymentId } = await deployFixture(app, { files: false })

  const res = await app.inject({
    method: 'POST',
    url: '/v1/runs',
    headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'start-shape', 'x-workflow-correlation-id': 'corr-start-shape' },
    payload: { workflowName: 'greet', input: ['bob', { nested: [1, 2] }] }
  })
  assert.equal(res.statusCode, 202, res.body)
  const summary = res.json()
  assert.match(summary.runId, /^wrun_[0-9A-Z]{26}$/)
  assert.deepEqual(Object.keys(summary).sort(), ['createdAt', 'deploymentId', 'runId', 'status', 'workflowName'])
  assert.equal(summary.workflowName, 'workflow//./workflows/demo//greet')
  assert.equal(summary.deploymentId, deploymentId)
  assert.equal(summary.status, 'pending')

  const run = await world.runs.get(summary.runId)
  assert.equal(run.deploymentId, deploymentId)
  assert.equal(run.workflowName, 'workflow//./workflows/demo//greet')
  assert.equal(run.specVersion, world.specVersion)
  assert.deepEqual(run.executionContext, { traceCarrier: {}, workflowCoreVersion: '4.8.9', features: { encryption: false } })
  assert.deepEqual(await hydrateWorkflowArguments(run.input, run.runId, undefined), ['bob', { nested: [1, 2] }])
  const events = await world.events.list({ runId: summary.runId })
  assert.deepEqual(events.data.map((event) => event.eventType), ['run_created'])

  // The queue message: start()'s queue name, payload (runInput from specVersion 3) and our correlation id.
  for (let i = 0; i < 100 && delivered.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(delivered.length, 1)
  assert.equal(delivered[0].queueName, '__wkf_workflow_workflow//./workflows/demo//greet')
  assert.equal(delivered[0].correlationId, 'corr-start-shape')
  assert.equal(delivered[0].body.runId, summary.runId)
  assert.deepEqual(delivered[0].body.traceCarrier, {})
  assert.equal(delivered[0].body.runInput.deploymentId, deploymentId)
  assert.equal(delivered[0].body.runInput.workflowName, summary.workflowName)
  assert.equal(delivered[0].body.runInput.specVersion, 3)
})

test('idempotency: replay, conflict, per-key scoping, key rules', async (t) => {
  const { app, options } = await build(t)
  dropQueueDeliveries(options.world)
  await deployFixture(app, { files: false })

  await t.test('the same payload with reordered keys replays the first answer', async () => {
    const first = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'replay-1', 'content-type': 'application/json' }, payload: '{"workflowName":"sum","input":[1,{"b":2,"a":1}]}' })
    assert.equal(first.statusCode, 202)
    assert.equal(first.headers['idempotent-replayed'], undefined)
    const again = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'replay-1', 'content-type': 'application/json' }, payload: '{ "input": [1, {"a":1, "b":2}], "workflowName": "sum" }' })
    assert.equal(again.statusCode, 202)
    assert.equal(again.headers['idempotent-replayed'], 'true')
    assert.equal(again.body, first.body)
    // A default-filled field is the same request: input defaults to [].
    const bare = await triggerRun(app, { workflowName: 'greet' }, 'replay-2')
    const explicit = await triggerRun(app, { workflowName: 'greet', input: [] }, 'replay-2')
    assert.equal(explicit.headers['idempotent-replayed'], 'true')
    assert.equal(explicit.json().runId, bare.json().runId)
  })

  await t.test('another payload under the same key is 409 idempotency_conflict', async () => {
    assert.equal((await triggerRun(app, { workflowName: 'sum', input: [1, 2] }, 'conflict-1')).statusCode, 202)
    const res = await triggerRun(app, { workflowName: 'sum', input: [2, 1] }, 'conflict-1')
    assert.equal(res.statusCode, 409)
    assert.equal(res.json().code, 'idempotency_conflict')
  })

  await t.test('records are scoped per API key', async () => {
    const mine = await triggerRun(app, { workflowName: 'greet', input: ['x'] }, 'shared-key', KEYS.triggerWrite)
    const theirs = await triggerRun(app, { workflowName: 'greet', input: ['x'] }, 'shared-key', KEYS.admin)
    assert.equal(theirs.statusCode, 202)
    assert.equal(theirs.headers['idempotent-replayed'], undefined)
    assert.notEqual(theirs.json().runId, mine.json().runId)
    // And a different payload under the other key is no conflict either.
    assert.equal((await triggerRun(app, { workflowName: 'sum', input: [] }, 'conflict-1', KEYS.admin)).statusCode, 202)
  })

  await t.test('Idempotency-Key is required and must be 1 to 255 printable characters', async () => {
    const missing = await app.inject({ method: 'POST', url: '/v1/runs', headers: bearer(KEYS.triggerWrite), payload: { workflowName: 'greet' } })
    assert.equal(missing.statusCode, 400)
    assert.equal(missing.json().code, 'idempotency_key_required')
    for (const bad of ['x'.repeat(256), ' ', 'tab\there', 'é']) {
      const res = await triggerRun(app, { workflowName: 'greet' }, bad)
      assert.equal(res.statusCode, 400, JSON.stringify(bad))
      assert.equal(res.json().code, 'validation_error')
    }
    assert.equal((await triggerRun(app, { workflowName: 'greet' }, 'k'.repeat(255))).statusCode, 202)
  })

  await t.test('50 concurrent duplicates give one run', async () => {
    const before = new Set(await runsIn(options.world))
    const responses = await Promise.all(Array.from({ length: 50 }, () => triggerRun(app, { workflowName: 'sum', input: [5, 5] }, 'burst-1')))
    const accepted = responses.filter((res) => res.statusCode === 202)
    for (const res of responses) {
      assert.ok(res.statusCode === 202 || res.json().code === 'idempotency_in_progress', res.body)
    }
    assert.ok(accepted.length >= 1)
    assert.equal(new Set(accepted.map((res) => res.json().runId)).size, 1)
    assert.equal(accepted.filter((res) => res.headers['idempotent-replayed'] === undefined).length, 1)
    const created = (await runsIn(options.world)).filter((id) => !before.has(id))
    assert.deepEqual(created, [accepted[0].json().runId])
  })

  await t.test('an error answer is not recorded: the key can be used again', async () => {
    const missing = await triggerRun(app, { workflowName: 'nope' }, 'retry-after-404')
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.json().code, 'workflow_not_found')
    const retry = await triggerRun(app, { workflowName: 'nope' }, 'retry-after-404')
    assert.equal(retry.statusCode, 404)
    assert.equal(retry.headers['idempotent-replayed'], undefined)
  })
})

test('trigger resolution: active pointer, explicit deployment, workflow names', async (t) => {
  const { app, options } = await build(t)
  dropQueueDeliveries(options.world)

  const none = await triggerRun(app, { workflowName: 'greet' }, 'before-any')
  assert.equal(none.statusCode, 409)
  assert.equal(none.json().code, 'no_active_deployment')

  const { id: inactive } = await deployFixture(app, { files: false, activate: false })
  assert.equal((await triggerRun(app, { workflowName: 'greet' }, 'before-any')).statusCode, 409)
  const explicit = await triggerRun(app, { workflowName: 'workflow//./workflows/demo//greet', deploymentId: inactive }, 'explicit')
  assert.equal(explicit.statusCode, 202, explicit.body)
  assert.equal(explicit.json().deploymentId, inactive)

  const unknown = await triggerRun(app, { workflowName: 'greet', deploymentId: 'dpl_nope' }, 'unknown-dpl')
  assert.equal(unknown.statusCode, 404)
  assert.equal(unknown.json().code, 'deployment_not_found')

  // Two files exporting the same name: the export name alone names neither.
  const manifest = {
    version: '1.0.0',
    steps: {},
    workflows: {
      'workflows/a.ts': { dup: { workflowId: 'workflow//./workflows/a//dup' }, only: { workflowId: 'workflow//./workflows/a//only' } },
      'workflows/b.ts': { dup: { workflowId: 'workflow//./workflows/b//dup' } }
    }
  }
  const created = await app.inject({ method: 'POST', url: '/v1/deployments', headers: bearer(KEYS.deployWrite), payload: { manifest } })
  const synthetic = created.json().id
  await app.inject({ method: 'POST', url: `/v1/deployments/${synthetic}/activate`, headers: bearer(KEYS.deployWrite) })
  const ambiguous = await triggerRun(app, { workflowName: 'dup' }, 'ambiguous')
  assert.equal(ambiguous.statusCode, 404)
  assert.equal(ambiguous.json().code, 'workflow_not_found')
  assert.deepEqual(ambiguous.json().candidates, ['workflow//./workflows/a//dup', 'workflow//./workflows/b//dup'])
  assert.equal((await triggerRun(app, { workflowName: 'workflow//./workflows/b//dup' }, 'by-id')).json().workflowName, 'workflow//./workflows/b//dup')
  assert.equal((await triggerRun(app, { workflowName: 'only' }, 'by-export')).json().workflowName, 'workflow//./workflows/a//only')

  // The key released by the 409 above now triggers on the active deployment.
  const later = await triggerRun(app, { workflowName: 'greet' }, 'before-any')
  assert.equal(later.statusCode, 404)
})

test('POST /v1/runs refuses bad input and bad keys with the contract codes', async (t) => {
  const { app, options } = await build(t)
  dropQueueDeliveries(options.world)
  await deployFixture(app, { files: false })
  const cases: Array<[Record<string, string>, unknown, number, string]> = [
    [{}, { workflowName: 'greet' }, 401, 'unauthorized'],
    [bearer(KEYS.runsRead), { workflowName: 'greet' }, 403, 'forbidden'],
    [bearer(KEYS.triggerWrite), { input: [] }, 400, 'validation_error'],
    [bearer(KEYS.triggerWrite), { workflowName: 'greet', input: 'not an array' }, 400, 'validation_error'],
    [bearer(KEYS.triggerWrite), { workflowName: '' }, 400, 'validation_error'],
    // A misspelled field is refused, not dropped (this one would run on the active deployment).
    [bearer(KEYS.triggerWrite), { workflowName: 'greet', input: [], deploymentID: 'dpl_x' }, 400, 'validation_error'],
    // Bodies are not coerced: 42 is not "42".
    [bearer(KEYS.triggerWrite), { workflowName: 42, input: [] }, 400, 'validation_error']
  ]
  for (const [headers, payload, status, code] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...headers, 'idempotency-key': 'bad-input' }, payload: payload as object })
    assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`)
    assert.equal(res.json().code, code)
  }
  const malformed = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'm', 'content-type': 'application/json' }, payload: '{"workflowName":' })
  assert.equal(malformed.statusCode, 400)
  assert.equal(malformed.json().code, 'validation_error')
  for (const [type, payload] of [['application/xml', '<run/>'], ['text/plain', '{"workflowName":"greet"}']]) {
    const unsupported = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 't', 'content-type': type }, payload })
    assert.deepEqual([unsupported.statusCode, unsupported.json().code], [415, 'unsupported_media_type'], type)
  }

  // A run's input is one World event: 16 MiB, as the internal lane's event create.
  const huge = JSON.stringify({ workflowName: 'greet', input: ['x'.repeat(16 * 1024 * 1024)] })
  const tooLarge = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'huge', 'content-type': 'application/json' }, payload: huge })
  assert.equal(tooLarge.statusCode, 413)
  assert.equal(tooLarge.json().code, 'payload_too_large')
  const hugeResume = JSON.stringify({ token: 't', payload: 'x'.repeat(16 * 1024 * 1024) })
  const resumeTooLarge = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: { ...bearer(KEYS.runsWrite), 'content-type': 'application/json' }, payload: hugeResume })
  assert.equal(resumeTooLarge.statusCode, 413)
  // Query strings are text: their numbers are still read as numbers.
  assert.equal((await app.inject({ method: 'GET', url: '/v1/runs?limit=2', headers: bearer(KEYS.runsRead) })).statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 't', payload: 1, extra: true } })).json().code, 'validation_error')
  assert.equal((await runsIn(options.world)).length, 0, 'nothing refused was created')
})

test('restart keeps deployments, the active pointer and idempotency records', async (t) => {
  const first = await build(t)
  dropQueueDeliveries(first.options.world)
  const { id } = await deployFixture(first.app, { files: false })
  const accepted = await triggerRun(first.app, { workflowName: 'greet', input: ['r'] }, 'across-restart')
  await first.app.close()

  const { createLocalWorld } = await import('@workflow/world-local')
  const { buildComputeWorkerApp } = await import('../../../server.js')
  const { join } = await import('node:path')
  const world = createLocalWorld({ dataDir: join(first.dir, 'world') })
  dropQueueDeliveries(world)
  const app = buildComputeWorkerApp({ ...first.options, world })
  t.after(() => app.close())
  await app.ready()
  const active = await app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })
  assert.equal(active.json().id, id)
  const replay = await triggerRun(app, { workflowName: 'greet', input: ['r'] }, 'across-restart')
  assert.equal(replay.headers['idempotent-replayed'], 'true')
  assert.equal(replay.body, accepted.body)
  assert.equal((await triggerRun(app, { workflowName: 'greet', input: ['other'] }, 'across-restart')).statusCode, 409)
})
