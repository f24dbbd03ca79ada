import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KEYS, bearer, build } from '../../helper.js'
import { executeBuildOn } from '../../fixture-executor.js'
import { deployFixture, triggerRun, waitForRun } from '../../public-lane.js'

const finished = (run: any) => ['completed', 'failed', 'cancelled'].includes(run.status)

test('reading, cancelling, resuming and listing runs that really execute', async (t) => {
  const { app, options } = await build(t)
  const world = options.world
  const { id: deploymentId, build: fixture } = await deployFixture(app)
  await executeBuildOn(t, world, fixture.dir)

  await t.test('GET /v1/runs/:id decodes the output with the SDK hydration; resolveData=none skips it', async () => {
    const greet = (await triggerRun(app, { workflowName: 'greet', input: ['ada'] })).json()
    const done = await waitForRun(app, greet.runId, finished)
    assert.equal(done.status, 'completed')
    assert.equal(done.output, 'hello ada from A')
    assert.ok(done.startedAt !== undefined && done.completedAt !== undefined)
    const sum = (await triggerRun(app, { workflowName: 'sum', input: [2, 3] })).json()
    assert.deepEqual((await waitForRun(app, sum.runId, finished)).output, { total: 5, variant: 'A' })
    const bare = await app.inject({ method: 'GET', url: `/v1/runs/${sum.runId}?resolveData=none`, headers: bearer(KEYS.runsRead) })
    assert.equal(bare.statusCode, 200)
    assert.equal(bare.json().output, undefined)
    assert.equal(bare.json().status, 'completed')
    assert.equal(bare.json().input, undefined)
    assert.deepEqual(done.input, ['ada'], 'the arguments, decoded the same way')
    for (const field of ['executionContext', 'specVersion']) assert.equal(field in done, false, field)
  })

  // The stack is the run's own data (where the workflow's code threw), as the SDK's Run shows it;
  // the worker's own error answers never carry one.
  await t.test('a failed run shows its error message and the stack of the workflow\'s code', async () => {
    const fatal = (await triggerRun(app, { workflowName: 'fatal', input: ['boom'] })).json()
    const done = await waitForRun(app, fatal.runId, finished)
    assert.equal(done.status, 'failed')
    assert.match(done.error.message, /fatal: boom/)
    assert.match(done.error.stack, /^FatalError: fatal: boom\n\s+at failFatallyStep/)
  })

  await t.test('GET /v1/runs/:id: 404 run_not_found, 400 on a malformed id, 401/403', async () => {
    const missing = await app.inject({ method: 'GET', url: '/v1/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F', headers: bearer(KEYS.runsRead) })
    assert.equal(missing.statusCode, 404)
    assert.equal(missing.json().code, 'run_not_found')
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs/bad%20id', headers: bearer(KEYS.runsRead) })).statusCode, 400)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs/wrun_x?resolveData=some', headers: bearer(KEYS.runsRead) })).statusCode, 400)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs/wrun_x' })).statusCode, 401)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs/wrun_x', headers: bearer(KEYS.triggerWrite) })).statusCode, 403)
  })

  await t.test('resume delivers the payload as resumeHook does and the run finishes with it', async () => {
    const run = (await triggerRun(app, { workflowName: 'approval', input: ['o-1'] })).json()
    const hook = await waitForHook(world, run.runId)
    const res = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:o-1', payload: { approved: true, by: 'ops' } } })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { runId: run.runId, hookId: hook.hookId })
    const done = await waitForRun(app, run.runId, finished)
    assert.deepEqual(done.output, { orderId: 'o-1', approved: { approved: true, by: 'ops' } })
    const gone = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:o-1', payload: {} } })
    assert.equal(gone.statusCode, 404)
    assert.equal(gone.json().code, 'hook_not_found')
  })

  await t.test('resume retries the wake-up when the queue fails instead of failing the request', async () => {
    const run = (await triggerRun(app, { workflowName: 'approval', input: ['o-2'] })).json()
    await waitForHook(world, run.runId)
    const queue = world.queue.bind(world)
    let failures = 0
    const sent: unknown[] = []
    world.queue = (async (...args: Parameters<typeof queue>) => {
      sent.push(args[2]?.headers)
      if (failures < 1) {
        failures++
        throw new Error('injected queue failure')
      }
      world.queue = queue
      return await queue(...args)
    }) as typeof world.queue
    const res = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: { ...bearer(KEYS.runsWrite), 'x-workflow-correlation-id': 'corr-resume-2' }, payload: { token: 'approval:o-2', payload: 'yes' } })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(failures, 1)
    // The wake-up message carries the request's correlation id, each attempt.
    assert.deepEqual(sent, [{ 'x-workflow-correlation-id': 'corr-resume-2' }, { 'x-workflow-correlation-id': 'corr-resume-2' }])
    assert.deepEqual((await waitForRun(app, run.runId, finished)).output, { orderId: 'o-2', approved: 'yes' })
  })

  await t.test('resume: unknown token 404, bad body 400, scope 403', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'nobody-waits', payload: 1 } })
    assert.equal(unknown.json().code, 'hook_not_found')
    assert.equal((await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { payload: 1 } })).statusCode, 400)
    assert.equal((await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsRead), payload: { token: 't' } })).statusCode, 403)
  })

  await t.test('cancel records run_cancelled on a running run; a finished run is 409', async () => {
    const run = (await triggerRun(app, { workflowName: 'approval', input: ['o-3'] })).json()
    await waitForHook(world, run.runId)
    const res = await app.inject({ method: 'POST', url: `/v1/runs/${run.runId}/cancel`, headers: bearer(KEYS.runsWrite) })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().status, 'cancelled')
    const events = await world.events.list({ runId: run.runId, pagination: { limit: 100 } })
    assert.ok(events.data.some((event) => event.eventType === 'run_cancelled'))
    // Its hook went with it.
    const resume = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:o-3', payload: 1 } })
    assert.equal(resume.statusCode, 404)
    const again = await app.inject({ method: 'POST', url: `/v1/runs/${run.runId}/cancel`, headers: bearer(KEYS.runsWrite) })
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().code, 'run_already_finished')
    const completed = (await triggerRun(app, { workflowName: 'greet', input: ['c'] })).json()
    await waitForRun(app, completed.runId, finished)
    const late = await app.inject({ method: 'POST', url: `/v1/runs/${completed.runId}/cancel`, headers: bearer(KEYS.runsWrite) })
    assert.equal(late.statusCode, 409)
    assert.equal(late.json().code, 'run_already_finished')
    const missing = await app.inject({ method: 'POST', url: '/v1/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F/cancel', headers: bearer(KEYS.runsWrite) })
    assert.equal(missing.json().code, 'run_not_found')
    assert.equal((await app.inject({ method: 'POST', url: `/v1/runs/${run.runId}/cancel`, headers: bearer(KEYS.runsRead) })).statusCode, 403)
  })

  await t.test('GET /v1/runs filters by status, workflow and deployment, with cursor pagination', async () => {
    const all = await listAll(app, '')
    assert.ok(all.length >= 7, `only ${all.length} runs`)
    const completed = await listAll(app, 'status=completed')
    assert.ok(completed.length > 0 && completed.every((run) => run.status === 'completed'), JSON.stringify(completed))
    const greets = await listAll(app, 'workflowName=greet')
    assert.ok(greets.length >= 2 && greets.every((run) => run.workflowName === 'workflow//./workflows/demo//greet'), JSON.stringify(greets))
    assert.equal((await listAll(app, 'workflowName=' + encodeURIComponent('workflow//./workflows/demo//greet'))).length, greets.length)
    assert.equal((await listAll(app, `deploymentId=${deploymentId}`)).length, all.length)
    assert.equal((await listAll(app, 'deploymentId=dpl_other')).length, 0)
    // Pages of 2 cover the same runs, newest first, without repeats.
    const paged = await listAll(app, '', 2)
    assert.deepEqual(paged.map((run) => run.runId), all.map((run) => run.runId))
    const bad = await app.inject({ method: 'GET', url: '/v1/runs?cursor=nonsense', headers: bearer(KEYS.runsRead) })
    assert.equal(bad.statusCode, 400)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs?status=sleeping', headers: bearer(KEYS.runsRead) })).statusCode, 400)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs?limit=0', headers: bearer(KEYS.runsRead) })).statusCode, 400)
  })

  await t.test('GET /v1/runs/:id/events lists events without payloads or tokens', async () => {
    const run = (await triggerRun(app, { workflowName: 'approval', input: ['o-4'] })).json()
    await waitForHook(world, run.runId)
    await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:o-4', payload: 'secret-payload' } })
    await waitForRun(app, run.runId, finished)
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}/events?limit=2`, headers: bearer(KEYS.runsRead) })
    assert.equal(res.statusCode, 200)
    const page = res.json()
    assert.equal(page.data.length, 2)
    assert.equal(page.data[0].eventType, 'run_created')
    assert.equal(page.hasMore, true)
    const rest = await app.inject({ method: 'GET', url: `/v1/runs/${run.runId}/events?limit=100&cursor=${page.cursor}`, headers: bearer(KEYS.runsRead) })
    const types = [...page.data, ...rest.json().data].map((event: any) => event.eventType)
    assert.ok(types.includes('hook_created') && types.includes('hook_received') && types.includes('run_completed'), types.join())
    const text = res.body + rest.body
    assert.equal(text.includes('approval:o-4'), false, 'no hook token')
    assert.equal(text.includes('secret-payload'), false, 'no payload')
    assert.equal((await app.inject({ method: 'GET', url: '/v1/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F/events', headers: bearer(KEYS.runsRead) })).json().code, 'run_not_found')
  })

  await t.test('every mutating request writes one audit row, failures included', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'audited', 'x-workflow-correlation-id': 'corr-audit-1' }, payload: { workflowName: 'greet', input: ['a'] } })
    const [row] = (await app.auditLog.findByCorrelationId('corr-audit-1'))
    assert.equal(row.action, 'runs.trigger')
    assert.equal(row.outcome, 'success')
    assert.equal(row.metadata.runId, res.json().runId)
    assert.equal(row.actorKeyId, (await app.apiKeys.authenticate(KEYS.triggerWrite))?.id)
    await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'audited', 'x-workflow-correlation-id': 'corr-audit-2' }, payload: { workflowName: 'greet', input: ['a'] } })
    assert.equal((await app.auditLog.findByCorrelationId('corr-audit-2'))[0].outcome, 'duplicate')
    await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'audited-404', 'x-workflow-correlation-id': 'corr-audit-3' }, payload: { workflowName: 'nope' } })
    const failed = (await app.auditLog.findByCorrelationId('corr-audit-3'))
    assert.equal(failed.length, 1)
    assert.equal(failed[0].outcome, 'failure')
    assert.equal(failed[0].metadata.code, 'workflow_not_found')
    await app.inject({ method: 'POST', url: '/v1/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F/cancel', headers: { ...bearer(KEYS.runsRead), 'x-workflow-correlation-id': 'corr-audit-4' } })
    const denied = (await app.auditLog.findByCorrelationId('corr-audit-4'))
    assert.deepEqual([denied[0].action, denied[0].outcome, denied[0].metadata.code], ['runs.cancel', 'denied', 'forbidden'])
    await app.inject({ method: 'GET', url: '/v1/runs', headers: { ...bearer(KEYS.runsRead), 'x-workflow-correlation-id': 'corr-audit-5' } })
    assert.equal((await app.auditLog.findByCorrelationId('corr-audit-5')).length, 0, 'reads are not audited')
    await waitForRun(app, res.json().runId, finished)
  })

  await t.test('resume writes its runs.resume row with the run it woke', async () => {
    const run = (await triggerRun(app, { workflowName: 'approval', input: ['o-5'] })).json()
    const hook = await waitForHook(world, run.runId)
    const res = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: { ...bearer(KEYS.runsWrite), 'x-workflow-correlation-id': 'corr-audit-resume' }, payload: { token: 'approval:o-5', payload: true } })
    assert.equal(res.statusCode, 200, res.body)
    const rows = (await app.auditLog.findByCorrelationId('corr-audit-resume'))
    assert.equal(rows.length, 1)
    assert.deepEqual([rows[0].action, rows[0].outcome, rows[0].target], ['runs.resume', 'success', hook.hookId])
    assert.equal(rows[0].metadata.runId, run.runId)
    assert.equal(rows[0].actorKeyId, (await app.apiKeys.authenticate(KEYS.runsWrite))?.id)
    await waitForRun(app, run.runId, finished)
  })

  await t.test('without a run id of its own, the audit row takes it from x-workflow-run-id', async () => {
    const runId = 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F'
    await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: { ...bearer(KEYS.runsWrite), 'x-workflow-run-id': runId, 'x-workflow-correlation-id': 'corr-audit-header' }, payload: { token: 'nobody-waits-here', payload: 1 } })
    const [row] = (await app.auditLog.findByCorrelationId('corr-audit-header'))
    assert.deepEqual([row.action, row.outcome, row.metadata.code], ['runs.resume', 'failure', 'hook_not_found'])
    assert.equal(row.metadata.runId, runId)
    // And none is invented when the header is absent.
    await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: { ...bearer(KEYS.runsWrite), 'x-workflow-correlation-id': 'corr-audit-no-header' }, payload: { token: 'nobody-waits-here', payload: 1 } })
    assert.equal('runId' in (await app.auditLog.findByCorrelationId('corr-audit-no-header'))[0].metadata, false)
  })

  // Nothing may still execute when the temp directories go.
  for (const run of await listAll(app, '')) await waitForRun(app, run.runId, finished)
})

async function waitForHook (world: any, runId: string): Promise<{ hookId: string }> {
  for (let i = 0; i < 600; i++) {
    const hooks = await world.hooks.list({ runId })
    if (hooks.data.length > 0) return hooks.data[0]
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`run ${runId} never created its hook`)
}

async function listAll (app: any, query: string, limit = 100): Promise<any[]> {
  const runs: any[] = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/runs?limit=${limit}${query ? '&' + query : ''}${cursor !== null ? '&cursor=' + cursor : ''}`
    const res = await app.inject({ method: 'GET', url, headers: bearer(KEYS.runsRead) })
    assert.equal(res.statusCode, 200, res.body)
    runs.push(...res.json().data)
    cursor = res.json().cursor
  } while (cursor !== null)
  return runs
}
