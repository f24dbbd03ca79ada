import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import type { World } from '@workflow/world'
import {
  AuthComputeClientError,
  ComputeClient,
  ComputeClientError,
  ConflictComputeClientError,
  IdempotencyComputeClientError,
  NoActiveDeploymentComputeClientError,
  NotFoundComputeClientError,
  RateLimitComputeClientError,
  ServerComputeClientError,
  ValidationComputeClientError,
  type Run
} from '../../../lib/client/index.js'
import { computeClientErrorFor } from '../../../lib/client/errors.js'
import { createComputeWorker } from '../../../fetch.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { startFaultProxy } from '../../fault-proxy.js'
import { dropQueueDeliveries, executeBuildOn } from '../../fixture-executor.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { KEYS, SEED_KEYS, breakLocalWorldRuns, tempDir, until } from '../../helper.js'
import type { ComputeExecutor } from '../../../lib/compute/types.js'

const THROTTLED_KEY = 'test-key-throttled-runs-read-0000001'
const GREET = 'workflow//./workflows/demo//greet'
const finished = (run: Run) => ['completed', 'failed', 'cancelled'].includes(run.status)

async function caught (promise: Promise<unknown>): Promise<ComputeClientError> {
  const error = await promise.then(() => undefined, (error: unknown) => error)
  assert.ok(error instanceof ComputeClientError, `expected a ComputeClientError, got ${String(error)}`)
  return error
}

async function waitForHook (world: World, token: string): Promise<void> {
  await until(() => world.hooks.getByToken(token).then(() => true, () => undefined), `hook ${token}`)
}

/** Each client of a fixed key, fast retries. */
function clientOf (baseUrl: string, apiKey: string, fetchImpl?: typeof fetch) {
  return new ComputeClient({ baseUrl, apiKey, retryDelayMs: 1, maxRetryDelayMs: 50, fetch: fetchImpl })
}

test('errors map by status and code to the contract\'s classes, all ComputeClientErrors', () => {
  const cases: Array<[number, string, new (...args: any[]) => ComputeClientError]> = [
    [400, 'validation_error', ValidationComputeClientError],
    [400, 'idempotency_key_required', ValidationComputeClientError],
    [413, 'payload_too_large', ValidationComputeClientError],
    [401, 'unauthorized', AuthComputeClientError],
    [403, 'forbidden', AuthComputeClientError],
    [403, 'https_required', AuthComputeClientError],
    [404, 'run_not_found', NotFoundComputeClientError],
    [404, 'no_active_deployment', NoActiveDeploymentComputeClientError],
    [409, 'idempotency_conflict', IdempotencyComputeClientError],
    [409, 'idempotency_in_progress', IdempotencyComputeClientError],
    [409, 'no_active_deployment', NoActiveDeploymentComputeClientError],
    [409, 'run_already_finished', ConflictComputeClientError],
    [429, 'rate_limited', RateLimitComputeClientError],
    [500, 'internal_error', ServerComputeClientError],
    [503, 'not_ready', ServerComputeClientError],
    [0, 'network_error', ServerComputeClientError]
  ]
  for (const [status, code, errorClass] of cases) {
    const error = computeClientErrorFor('m', { status, code, correlationId: 'corr', retryAfter: 7 })
    assert.ok(error instanceof errorClass, `${status} ${code} → ${errorClass.name}`)
    assert.ok(error instanceof ComputeClientError)
    assert.deepEqual([error.name, error.status, error.code, error.correlationId], [errorClass.name, status, code, 'corr'])
  }
  assert.equal((computeClientErrorFor('m', { status: 429, code: 'rate_limited', retryAfter: 7 }) as RateLimitComputeClientError).retryAfter, 7)
})

test('ComputeClient against the real public routes of a listening worker', async (t) => {
  const dir = await tempDir(t)
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  const worker = await startNodeComputeWorkerServer({
    world,
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: [...SEED_KEYS, { key: THROTTLED_KEY, scopes: ['runs:read'], name: 'throttled', rateLimitPerMinute: 1 }],
    port: 0
  })
  t.after(() => worker.close())
  const fixture = await buildFixtureApp()
  await executeBuildOn(t, world, fixture.dir)
  const admin = clientOf(worker.url, KEYS.admin)
  const triggers = clientOf(worker.url, KEYS.triggerWrite)
  const readBundle = (name: string) => readFile(join(fixture.dir, name))

  await t.test('health, with the caller\'s correlation id on the answer', async () => {
    const health = await admin.health({ correlationId: 'corr-health' })
    assert.equal(health.status, 'ok')
    assert.equal(health.database, 'ok')
    assert.equal(health.world.status, 'ok')
    const live = await admin.liveness()
    assert.equal(live.status, 'ok')
    assert.equal(typeof live.uptimeSeconds, 'number')
    const ready = await admin.readiness()
    assert.equal(ready.status, 'ok')
    assert.deepEqual([ready.checks.world.status, ready.checks.database.status, ready.checks.compute.status], ['ok', 'ok', 'none'])
  })

  let deploymentId = ''
  await t.test('deployments: create (bytes and base64), get, no active one, activate, active, list', async () => {
    const noneActive = await caught(admin.getActiveDeployment({ correlationId: 'corr-no-active' }))
    assert.ok(noneActive instanceof NoActiveDeploymentComputeClientError)
    assert.deepEqual([noneActive.status, noneActive.code, noneActive.correlationId], [404, 'no_active_deployment', 'corr-no-active'])
    const untargeted = await caught(triggers.triggerRun({ workflowName: 'greet', input: ['x'] }))
    assert.ok(untargeted instanceof NoActiveDeploymentComputeClientError)
    assert.equal(untargeted.status, 409)

    const flow = await readBundle('flow.js')
    const created = await admin.createDeployment({
      manifest: fixture.manifest,
      files: { 'flow.js': flow, 'step.js': (await readBundle('step.js')).toString('base64') },
      labels: { gitSha: 'abc' }
    })
    assert.match(created.id, /^dpl_/)
    assert.equal(created.active, false)
    assert.equal(created.activatedAt, null)
    assert.deepEqual(created.labels, { gitSha: 'abc' })
    assert.deepEqual(created.files.map((file) => [file.name, file.size]), [['flow.js', flow.length], ['step.js', (await readBundle('step.js')).length]])
    assert.ok(created.workflows.includes(GREET))
    deploymentId = created.id
    assert.deepEqual(await admin.getDeployment(created.id), created)

    const activated = await admin.activateDeployment(created.id)
    assert.equal(activated.active, true)
    assert.equal(typeof activated.activatedAt, 'string')
    assert.equal((await admin.getActiveDeployment()).id, created.id)

    const other = await admin.createDeployment({ manifest: fixture.manifest })
    const first = await admin.listDeployments({ limit: 1 })
    assert.deepEqual([first.data.map((deployment) => deployment.id), first.hasMore], [[other.id], true])
    const second = await admin.listDeployments({ limit: 1, cursor: first.cursor ?? undefined })
    assert.deepEqual(second.data.map((deployment) => deployment.id), [created.id])

    const missing = await caught(admin.getDeployment('dpl_missing'))
    assert.ok(missing instanceof NotFoundComputeClientError)
  })

  await t.test('trigger: an Idempotency-Key replays the first answer and refuses another payload', async () => {
    const first = await triggers.triggerRun({ workflowName: 'greet', input: ['ada'] }, { idempotencyKey: 'order-1', correlationId: 'corr-trigger-1' })
    assert.match(first.runId, /^wrun_/)
    assert.deepEqual([first.workflowName, first.deploymentId, first.replayed], [GREET, deploymentId, false])
    const replay = await triggers.triggerRun({ workflowName: 'greet', input: ['ada'] }, { idempotencyKey: 'order-1' })
    assert.deepEqual(replay, { ...first, replayed: true })
    // The correlation id reached the worker: its audit row carries it.
    assert.equal((await worker.app.auditLog.findByCorrelationId('corr-trigger-1'))[0]?.metadata.runId, first.runId)

    const conflict = await caught(triggers.triggerRun({ workflowName: 'greet', input: ['bob'] }, { idempotencyKey: 'order-1', correlationId: 'corr-conflict' }))
    assert.ok(conflict instanceof IdempotencyComputeClientError)
    assert.deepEqual([conflict.status, conflict.code, conflict.correlationId], [409, 'idempotency_conflict', 'corr-conflict'])

    const unknown = await caught(triggers.triggerRun({ workflowName: 'nope' }))
    assert.ok(unknown instanceof NotFoundComputeClientError)
    assert.equal(unknown.code, 'workflow_not_found')
  })

  await t.test('getRun decodes the output; resolveData none skips it; listRuns and listRunEvents page', async () => {
    const run = await triggers.triggerRun({ workflowName: 'sum', input: [2, 40] })
    const done = await until(async () => { const now = await admin.getRun(run.runId); return finished(now) ? now : undefined }, 'sum')
    assert.equal(done.status, 'completed')
    assert.deepEqual(done.output, { total: 42, variant: 'A' })
    assert.equal(typeof done.completedAt, 'string')
    const bare = await admin.getRun(run.runId, { resolveData: 'none' })
    assert.deepEqual([bare.status, 'output' in bare], ['completed', false])
    const missing = await caught(admin.getRun('wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F', { correlationId: 'corr-missing-run' }))
    assert.ok(missing instanceof NotFoundComputeClientError)
    assert.deepEqual([missing.code, missing.correlationId], ['run_not_found', 'corr-missing-run'])

    const sums = await admin.listRuns({ workflowName: 'sum', status: 'completed' })
    assert.deepEqual(sums.data.map((listed) => listed.runId), [run.runId])
    const firstPage = await admin.listRuns({ limit: 1 })
    assert.equal(firstPage.data.length, 1)
    assert.equal(firstPage.hasMore, true)
    const nextPage = await admin.listRuns({ limit: 1, cursor: firstPage.cursor ?? undefined })
    assert.notEqual(nextPage.data[0].runId, firstPage.data[0].runId)

    const events = await admin.listRunEvents(run.runId, { limit: 2 })
    assert.deepEqual(events.data.map((event) => event.eventType), ['run_created', 'run_started'])
    const rest = await admin.listRunEvents(run.runId, { cursor: events.cursor ?? undefined })
    assert.equal(rest.data.at(-1)?.eventType, 'run_completed')
  })

  await t.test('resumeHook wakes the run; a second resume is hook_not_found', async () => {
    const run = await triggers.triggerRun({ workflowName: 'approval', input: ['r-1'] })
    await waitForHook(world, 'approval:r-1')
    const resumed = await admin.resumeHook('approval:r-1', { approved: true, by: 'client' })
    assert.equal(resumed.runId, run.runId)
    assert.match(resumed.hookId, /\w/)
    const done = await until(async () => { const now = await admin.getRun(run.runId); return finished(now) ? now : undefined }, 'approval')
    assert.deepEqual(done.output, { orderId: 'r-1', approved: { approved: true, by: 'client' } })
    const again = await caught(admin.resumeHook('approval:r-1', {}, { correlationId: 'corr-resume' }))
    assert.ok(again instanceof NotFoundComputeClientError)
    assert.deepEqual([again.code, again.correlationId], ['hook_not_found', 'corr-resume'])
  })

  await t.test('listRunHooks and resumeRunHook: by hook id, no token; listAudit reads the rows by correlation id', async () => {
    const run = await triggers.triggerRun({ workflowName: 'approval', input: ['h-1'] })
    await waitForHook(world, 'approval:h-1')
    const hooks = await admin.listRunHooks(run.runId)
    assert.equal(hooks.data.length, 1)
    assert.equal('token' in hooks.data[0], false)
    const resumed = await admin.resumeRunHook(run.runId, hooks.data[0].hookId, { approved: true, by: 'id' }, { correlationId: 'corr-resume-by-id' })
    assert.deepEqual(resumed, { runId: run.runId, hookId: hooks.data[0].hookId })
    const done = await until(async () => { const now = await admin.getRun(run.runId); return finished(now) ? now : undefined }, 'approval by id')
    assert.deepEqual(done.output, { orderId: 'h-1', approved: { approved: true, by: 'id' } })
    const rows = await admin.listAudit({ correlationId: 'corr-resume-by-id' })
    assert.deepEqual(rows.data.map((row) => [row.action, row.outcome, row.metadata.runId]), [['runs.resume', 'success', run.runId]])
  })

  await t.test('cancelRun cancels; a finished run is run_already_finished; an unknown one run_not_found', async () => {
    const run = await triggers.triggerRun({ workflowName: 'approval', input: ['c-1'] })
    await waitForHook(world, 'approval:c-1')
    const cancelled = await admin.cancelRun(run.runId)
    assert.equal(cancelled.status, 'cancelled')
    const again = await caught(admin.cancelRun(run.runId))
    assert.ok(again instanceof ConflictComputeClientError)
    assert.deepEqual([again.status, again.code], [409, 'run_already_finished'])
    const missing = await caught(admin.cancelRun('wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F'))
    assert.ok(missing instanceof NotFoundComputeClientError)
    assert.equal(missing.code, 'run_not_found')
  })

  await t.test('streamRun yields the decoded values with their index, from the start or the end', async () => {
    const run = await triggers.triggerRun({ workflowName: 'streamer', input: [['alpha', 'beta', 'gamma']] })
    const values = []
    for await (const item of admin.streamRun(run.runId)) values.push(item)
    assert.deepEqual(values, [{ index: 0, value: 'alpha' }, { index: 1, value: 'beta' }, { index: 2, value: 'gamma' }])
    const last = []
    for await (const item of admin.streamRun(run.runId, { startIndex: -1 })) last.push(item)
    assert.deepEqual(last, [{ index: 2, value: 'gamma' }])
    const missing = await caught((async () => { for await (const item of admin.streamRun('wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F')) void item })())
    assert.ok(missing instanceof NotFoundComputeClientError)
  })

  await t.test('bad input is ValidationComputeClientError with the worker\'s details', async () => {
    const empty = await caught(triggers.triggerRun({ workflowName: '' }))
    assert.ok(empty instanceof ValidationComputeClientError)
    assert.equal(empty.code, 'validation_error')
    assert.ok(Array.isArray(empty.details.validation))
    assert.ok((await caught(admin.getRun('bad id'))) instanceof ValidationComputeClientError)
    assert.ok((await caught(admin.listRuns({ limit: 1000 }))) instanceof ValidationComputeClientError)
    const manifest = await caught(admin.createDeployment({ manifest: { version: '1.0.0' } as any }))
    assert.ok(manifest instanceof ValidationComputeClientError)
  })

  await t.test('auth: no key or an unknown one 401, a missing scope 403: AuthComputeClientError', async () => {
    const unknown = await caught(clientOf(worker.url, 'test-key-unknown-000000000000000001').listRuns({}, { correlationId: 'corr-401' }))
    assert.ok(unknown instanceof AuthComputeClientError)
    assert.deepEqual([unknown.status, unknown.code, unknown.correlationId], [401, 'unauthorized', 'corr-401'])
    const scoped = await caught(clientOf(worker.url, KEYS.runsRead).cancelRun('wrun_x'))
    assert.ok(scoped instanceof AuthComputeClientError)
    assert.deepEqual([scoped.status, scoped.code, scoped.details.requiredScope], [403, 'forbidden', 'runs:write'])
  })

  await t.test('429 is retried, then surfaces as RateLimitComputeClientError with retryAfter', async () => {
    let attempts = 0
    const counting: typeof fetch = async (input, init) => { attempts++; return await fetch(input, init) }
    const throttled = new ComputeClient({ baseUrl: worker.url, apiKey: THROTTLED_KEY, fetch: counting, retries: 2, retryDelayMs: 1, maxRetryDelayMs: 5 })
    await throttled.listRuns({ limit: 1 })
    const limited = await caught(throttled.listRuns({ limit: 1 }, { correlationId: 'corr-429' }))
    assert.ok(limited instanceof RateLimitComputeClientError)
    assert.deepEqual([limited.status, limited.code, limited.correlationId], [429, 'rate_limited', 'corr-429'])
    assert.ok((limited.retryAfter ?? 0) > 0)
    assert.equal(attempts, 1 + 3, 'one call, then the throttled one with its two retries')
  })

  await t.test('a trigger whose answer was lost is retried with the same key: one run', async () => {
    const proxy = await startFaultProxy(t, worker.url)
    const client = clientOf(proxy.url, KEYS.triggerWrite)
    const greetsBefore = (await admin.listRuns({ workflowName: 'greet', limit: 100 })).data.length

    proxy.fail('lose-answer')
    const lost = await client.triggerRun({ workflowName: 'greet', input: ['lost'] }, { correlationId: 'corr-lost' })
    assert.equal(lost.replayed, true, 'the second attempt got the first one\'s answer')
    const [first, second] = proxy.seen.slice(-2)
    assert.equal(proxy.seen.length, 2)
    assert.ok(first.headers['idempotency-key'] !== undefined)
    assert.deepEqual([second.headers['idempotency-key'], second.headers['x-workflow-correlation-id']], [first.headers['idempotency-key'], 'corr-lost'])

    proxy.fail('unavailable')
    const refused = await client.triggerRun({ workflowName: 'greet', input: ['refused'] }, { idempotencyKey: 'order-503' })
    assert.equal(refused.replayed, false, 'the 503 came before the worker saw it')
    assert.deepEqual(proxy.seen.slice(-2).map((request) => request.headers['idempotency-key']), ['order-503', 'order-503'])

    const greets = (await admin.listRuns({ workflowName: 'greet', limit: 100 })).data
    assert.equal(greets.length, greetsBefore + 2, 'one run per trigger')
    assert.ok(greets.some((run) => run.runId === lost.runId) && greets.some((run) => run.runId === refused.runId))
  })

  await t.test('resume and cancel are not repeated after a lost answer; a cut stream resumes where it stopped', async () => {
    const proxy = await startFaultProxy(t, worker.url)
    const client = clientOf(proxy.url, KEYS.admin)
    for (const call of [() => client.resumeHook('approval:none', 1), () => client.cancelRun('wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F')]) {
      const before = proxy.seen.length
      proxy.fail('lose-answer')
      const error = await caught(call())
      assert.ok(error instanceof ServerComputeClientError)
      assert.deepEqual([error.status, error.code], [0, 'network_error'])
      assert.equal(proxy.seen.length, before + 1)
    }

    const run = await triggers.triggerRun({ workflowName: 'streamer', input: [['one', 'two', 'three']] })
    await until(async () => finished(await admin.getRun(run.runId, { resolveData: 'none' })) || undefined, 'streamer')
    proxy.fail('cut-after-first-line')
    const values = []
    for await (const item of client.streamRun(run.runId)) values.push(item.value)
    assert.deepEqual(values, ['one', 'two', 'three'])
    assert.deepEqual(proxy.seen.slice(-2).map((request) => new URL(request.url, 'http://x').searchParams.get('startIndex')), ['0', '0'])
  })

  // Nothing may still execute when the temp directories go.
  for (const run of (await admin.listRuns({ limit: 100 })).data) {
    await until(async () => finished(await admin.getRun(run.runId, { resolveData: 'none' })) || undefined, `run ${run.runId} to end`)
  }
})

test('ComputeClient over createComputeWorker, through its injectable fetch', async (t) => {
  const dir = await tempDir(t)
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  dropQueueDeliveries(world)
  const handler = createComputeWorker({ world, sqlitePath: join(dir, 'worker.db'), artifactDir: join(dir, 'artifacts'), seedApiKeys: SEED_KEYS })
  t.after(() => handler.close())
  const viaHandler: typeof fetch = async (input, init) => await handler(new Request(input, init))
  const client = clientOf('http://worker.internal/', KEYS.admin, viaHandler)

  assert.equal((await client.health()).status, 'ok')
  const { manifest } = await buildFixtureApp()
  const deployment = await client.activateDeployment((await client.createDeployment({ manifest })).id)
  const run = await client.triggerRun({ workflowName: 'greet', input: ['fetch'] }, { idempotencyKey: 'fetch-1' })
  assert.deepEqual([run.deploymentId, run.workflowName, run.replayed], [deployment.id, GREET, false])
  assert.equal((await client.triggerRun({ workflowName: 'greet', input: ['fetch'] }, { idempotencyKey: 'fetch-1' })).replayed, true)
  assert.equal((await client.getRun(run.runId)).runId, run.runId)
  const missing = await caught(client.resumeHook('nobody', 1, { correlationId: 'corr-fetch' }))
  assert.ok(missing instanceof NotFoundComputeClientError)
  assert.deepEqual([missing.code, missing.correlationId], ['hook_not_found', 'corr-fetch'])
})

test('health(), liveness(), readiness(): a 503 not_ready throws ServerComputeClientError at once, with the probe\'s report', async (t) => {
  const dir = await tempDir(t)
  let ready = true
  // An executor that reports what it is told to: the worker only reads its health().
  const compute: ComputeExecutor = { kind: 'test-executor', start: async () => {}, close: async () => {}, health: () => ({ ready }) }
  const worker = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }), compute, sqlitePath: join(dir, 'worker.db'), seedApiKeys: SEED_KEYS, port: 0
  })
  t.after(() => worker.close())
  const proxy = await startFaultProxy(t, worker.url)
  // No key needed for probes.
  const client = new ComputeClient({ baseUrl: proxy.url, apiKey: 'not-a-key', retryDelayMs: 1 })
  assert.equal((await client.readiness()).checks.compute.status, 'ok')

  ready = false
  const notReady = await caught(client.readiness({ correlationId: 'corr-ready' }))
  assert.ok(notReady instanceof ServerComputeClientError)
  assert.deepEqual([notReady.status, notReady.code, notReady.correlationId], [503, 'not_ready', 'corr-ready'])
  assert.equal((notReady.details.checks as any).compute.status, 'unavailable')
  assert.equal((await client.liveness()).status, 'ok', 'liveness calls no dependency')

  await breakLocalWorldRuns(dir)
  const down = await until(() => client.health().then(() => undefined, (error: unknown) => error as ComputeClientError), 'health to report the World down')
  assert.ok(down instanceof ServerComputeClientError)
  assert.deepEqual([down.status, down.code], [503, 'not_ready'])
  assert.equal((down.details.world as any).status, 'unavailable')
  assert.equal(down.details.database, 'ok')
  const seen = proxy.seen.length
  await caught(client.health())
  assert.equal(proxy.seen.length, seen + 1, 'a probe\'s 503 is its answer: not retried')
})
