import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createInProcessCompute } from '../../../lib/compute/index.js'
import type { ComputeExecutor } from '../../../lib/compute/types.js'
import { VERSION } from '../../../lib/version.js'
import { deployBuild, eventually, runOutput, startRun, workflowId } from '../../compute/helper.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { breakLocalWorldRuns, build, sqliteOf } from '../../helper.js'

/** An executor that reports what it is told to; the worker only reads its health(). */
function executorReporting (report: () => Record<string, unknown>): ComputeExecutor {
  return { kind: 'test-executor', start: async () => {}, close: async () => {}, health: report }
}

test('GET /v1/health/live answers 200 without a key and touches no dependency', async (t) => {
  const { app } = await build(t)
  sqliteOf(app).close() // a dead dependency must not fail liveness
  const res = await app.inject({ method: 'GET', url: '/v1/health/live' })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.status, 'ok')
  assert.equal(body.version, VERSION)
  assert.equal(typeof body.uptimeSeconds, 'number')
})

test('GET /v1/health/ready answers 200 with each check when the worker is ready', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.status, 'ok')
  assert.equal(body.checks.world.status, 'ok')
  assert.equal(body.checks.world.target, 'local')
  assert.equal(body.checks.database.status, 'ok')
  assert.deepEqual(body.checks.compute, { status: 'none' })
  // The probe really wrote.
  const row = sqliteOf(app).prepare('SELECT checked_at FROM health_probe').get() as { checked_at: number }
  assert.ok(row.checked_at > 0)
})

test('GET /v1/health/ready is 503 not_ready when the database reads but refuses writes', async (t) => {
  const { app } = await build(t)
  sqliteOf(app).pragma('query_only = ON')
  // A read probe passes ...
  assert.equal((await app.inject({ method: 'GET', url: '/v1/health' })).statusCode, 200)
  // ... the write probe does not.
  const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.code, 'not_ready')
  assert.equal(body.checks.database.status, 'unavailable')
  assert.match(body.checks.database.error, /readonly/i)
  assert.equal(body.checks.world.status, 'ok')
  assert.match(body.message, /database does not take writes/)
  assert.equal(body.correlationId, res.headers['x-workflow-correlation-id'])
})

test('GET /v1/health/ready is 503 when the database is closed', async (t) => {
  const { app } = await build(t)
  sqliteOf(app).close()
  const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(res.statusCode, 503)
  assert.equal(res.json().checks.database.status, 'unavailable')
})

test('GET /v1/health/ready is 503 when the World cannot read its store', async (t) => {
  const { app, dir } = await build(t)
  await breakLocalWorldRuns(dir)
  const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.checks.world.status, 'unavailable')
  assert.equal(body.checks.database.status, 'ok')
  assert.match(body.message, /World is unavailable/)
})

test("GET /v1/health/ready follows the executor's health(): ready, not ready, throwing", async (t) => {
  let report: Record<string, unknown> = { ready: true, threads: 2 }
  const { app } = await build(t, {
    compute: executorReporting(() => {
      if (report.throw === true) throw new Error('thread pool crashed')
      return report
    })
  })
  const ready = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json().checks.compute, { status: 'ok', kind: 'test-executor', detail: { ready: true, threads: 2 } })

  report = { ready: false, threads: 0 }
  const notReady = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(notReady.statusCode, 503)
  assert.equal(notReady.json().checks.compute.status, 'unavailable')
  assert.match(notReady.json().message, /executor is not ready/)

  report = { throw: true }
  const throwing = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(throwing.statusCode, 503)
  assert.equal(throwing.json().checks.compute.error, 'thread pool crashed')
})

test('GET /v1/health/ready with the in-process executor: 200 with its threads once one is loaded, 503 once it is closed', async (t) => {
  const a = await buildFixtureApp('A')
  const compute = createInProcessCompute()
  const { app, options } = await build(t, { compute })
  const ready = async (): Promise<{ statusCode: number, body: any }> => {
    const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
    return { statusCode: res.statusCode, body: res.json() }
  }

  // Started, nothing loaded yet: ready (a thread starts on its deployment's first delivery).
  const idle = await ready()
  assert.equal(idle.statusCode, 200)
  assert.equal(idle.body.checks.compute.status, 'ok')
  assert.equal(idle.body.checks.compute.kind, 'in-process')
  assert.deepEqual(idle.body.checks.compute.detail.threads, [])

  await deployBuild(options.artifactDir!, 'dpl_a', a)
  const runId = await startRun(app.workflowWorld, 'dpl_a', workflowId(a, 'greet'), ['ready'])
  assert.equal(await runOutput(app.workflowWorld, runId), 'hello ready from A')
  const loaded = await ready()
  assert.equal(loaded.statusCode, 200)
  const detail = loaded.body.checks.compute.detail
  assert.equal(detail.ready, true)
  assert.deepEqual(detail.loaded, ['dpl_a'])
  assert.equal(detail.threads.length, 1)
  assert.equal(detail.threads[0].deploymentId, 'dpl_a')
  assert.equal(detail.threads[0].state, 'answering')
  assert.deepEqual(detail.threadCounts, { loaded: 1, answering: 1, loading: 0, unresponsive: 0 })
  assert.deepEqual(detail.crashed, [])

  await compute.close()
  const closed = await ready()
  assert.equal(closed.statusCode, 503)
  assert.equal(closed.body.code, 'not_ready')
  assert.equal(closed.body.checks.compute.status, 'unavailable')
  assert.equal(closed.body.checks.compute.detail.ready, false)
  assert.deepEqual(closed.body.checks.compute.detail.threads, [])
  assert.match(closed.body.message, /executor is not ready \(the executor is closed\)/)
  assert.equal(closed.body.checks.world.status, 'ok')
})

test('the probes are exempt from auth, the rate limit and requireHttps', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 1, requireHttps: true })
  for (const url of ['/v1/health/live', '/v1/health/ready']) {
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 200, `${url} #${i}`)
      assert.equal(res.headers['x-ratelimit-limit'], undefined)
    }
  }
  // Other routes are still guarded: plain HTTP under requireHttps.
  assert.equal((await app.inject({ method: 'GET', url: '/v1/nope' })).json().code, 'https_required')
})

test('GET /v1/health/ready reports a thread blocked by a synchronous step unresponsive, the worker still ready; answering again after', async (t) => {
  const a = await buildFixtureApp('A')
  const compute = createInProcessCompute({ threadCheckMs: 250 })
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld
  await deployBuild(options.artifactDir!, 'dpl_a', a)
  const ready = async (): Promise<{ statusCode: number, detail: any }> => {
    const res = await app.inject({ method: 'GET', url: '/v1/health/ready' })
    return { statusCode: res.statusCode, detail: res.json().checks.compute.detail }
  }

  // The step busy-loops 2 s; a ping sent in its first 1.75 s gets no pong within the 250 ms check.
  const runId = await startRun(world, 'dpl_a', workflowId(a, 'threadBlocker'), [2_000])
  const blocked = await eventually(async () => {
    const probe = await ready()
    if (probe.detail.threads[0]?.state === 'unresponsive') return probe
    if ((await world.runs.get(runId)).status === 'completed') throw new Error('the run completed before a probe found its thread unresponsive')
    return undefined
  })
  // One stuck deployment does not make the worker unready (InProcessCompute.health).
  assert.equal(blocked.statusCode, 200)
  assert.equal(blocked.detail.ready, true)
  assert.deepEqual(blocked.detail.threads, [{ deploymentId: 'dpl_a', state: 'unresponsive', inFlight: 1 }])
  assert.deepEqual(blocked.detail.threadCounts, { loaded: 1, answering: 0, loading: 0, unresponsive: 1 })

  assert.equal(await runOutput(world, runId), 'blocked 2000 ms')
  const after = await ready()
  assert.equal(after.statusCode, 200)
  assert.equal(after.detail.threads[0].state, 'answering')
  assert.deepEqual(after.detail.threadCounts, { loaded: 1, answering: 1, loading: 0, unresponsive: 0 })
  assert.equal(after.detail.crashes, 0)
})
