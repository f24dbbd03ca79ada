import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { getRun, resumeHook } from 'workflow/api'
import { healthCheck } from 'workflow/runtime'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { build } from '../helper.js'
import { deployBuild, eventually, runOutput, startRun, waitForRun, workflowId } from './helper.js'

// One worker for the whole file: four deployments (two builds of one app that share every step
// id but differ in behaviour, an ES module build of it, and an app that waits on webhooks), real
// world-local, real threads.
test('the in-process executor runs deployed Workflow SDK builds', async (t) => {
  const [a, b, esm, inbox] = await Promise.all([
    buildFixtureApp('A'), buildFixtureApp('B'), buildFixtureApp('E', 'app', 'esm'), buildFixtureApp('A', 'webhook-app')
  ])
  const compute = createInProcessCompute()
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld
  await deployBuild(options.artifactDir!, 'dpl_a', a)
  await deployBuild(options.artifactDir!, 'dpl_b', b)
  await deployBuild(options.artifactDir!, 'dpl_esm', esm)
  await deployBuild(options.artifactDir!, 'dpl_inbox', inbox)

  // Several sleeps, each at least a second (the SDK rounds timeouts up): started first, checked last.
  const longRun = await startRun(world, 'dpl_a', workflowId(a, 'manySleeps'), [3])

  await t.test('two builds that share step ids run side by side, each with its own code', async () => {
    const runs = await Promise.all([
      startRun(world, 'dpl_a', workflowId(a, 'sum'), [1, 2]),
      startRun(world, 'dpl_b', workflowId(b, 'sum'), [3, 4]),
      startRun(world, 'dpl_a', workflowId(a, 'greet'), ['ada']),
      startRun(world, 'dpl_b', workflowId(b, 'greet'), ['bob'])
    ])
    const outputs = await Promise.all(runs.map(async (runId) => await runOutput(world, runId)))
    assert.deepEqual(outputs, [{ total: 3, variant: 'A' }, { total: 7, variant: 'B' }, 'hello ada from A', 'hello bob from B'])
    const run = await world.runs.get(runs[1])
    assert.equal(run.deploymentId, 'dpl_b')
    assert.deepEqual([...(await compute.health()).loaded].sort(), ['dpl_a', 'dpl_b'])
  })

  await t.test('an ES module build (flow.mjs, step.mjs, as framework builders emit) runs steps and sleep', async () => {
    assert.deepEqual((await readdir(join(options.artifactDir!, 'dpl_esm'))).sort(), ['flow.mjs', 'manifest.json', 'step.mjs', 'webhook.js'])
    const runs = await Promise.all([
      startRun(world, 'dpl_esm', workflowId(esm, 'sum'), [5, 6]),
      startRun(world, 'dpl_esm', workflowId(esm, 'sleepy'), [100])
    ])
    assert.deepEqual(await runOutput(world, runs[0]), { total: 11, variant: 'E' })
    assert.equal(await runOutput(world, runs[1]), 'slept 100 ms, 3')
  })

  await t.test('steps and sleep', async () => {
    const runId = await startRun(world, 'dpl_b', workflowId(b, 'sleepy'), [300])
    assert.equal(await runOutput(world, runId), 'slept 300 ms, 3')
  })

  await t.test('a run waits on its hook and completes with the payload it is resumed with', async () => {
    const runId = await startRun(world, 'dpl_a', workflowId(a, 'approval'), ['order-7'])
    const hook = await eventually(async () => await world.hooks.getByToken('approval:order-7').catch(() => undefined))
    assert.equal(hook.runId, runId)
    assert.equal((await world.runs.get(runId)).status, 'running')
    await resumeHook('approval:order-7', { approved: true, by: 'ops' })
    assert.deepEqual(await runOutput(world, runId), { orderId: 'order-7', approved: { approved: true, by: 'ops' } })
  })

  await t.test('chunks a step writes to the run stream are read back in order', async () => {
    const runId = await startRun(world, 'dpl_b', workflowId(b, 'streamer'), [['x', 'y', 'z']])
    assert.equal(await runOutput(world, runId), 3)
    const chunks: unknown[] = []
    const reader = getRun(runId).getReadable().getReader()
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value)
    assert.deepEqual(chunks, ['x', 'y', 'z'])
  })

  await t.test('a FatalError fails the run at once, without retrying the step', async () => {
    const runId = await startRun(world, 'dpl_a', workflowId(a, 'fatal'), ['no stock'])
    const run = await waitForRun(world, runId)
    assert.equal(run.status, 'failed')
    assert.match(JSON.stringify(run.error), /fatal: no stock/)
    const steps = await world.steps.list({ runId })
    assert.deepEqual(steps.data.map((step) => step.attempt), [1])
  })

  await t.test('a failing step is retried until it succeeds', async () => {
    const runId = await startRun(world, 'dpl_b', workflowId(b, 'retried'), [2])
    assert.equal(await runOutput(world, runId), 3)
    const steps = await world.steps.list({ runId })
    assert.deepEqual(steps.data.map((step) => [step.status, step.attempt]), [['completed', 3]])
  })

  await t.test('health checks of cross-deployment starts are answered (start() waits up to 2 s for one)', async () => {
    const probe = await healthCheck(world, 'workflow', { deploymentId: 'dpl_b', timeout: 10_000 })
    assert.equal(probe.healthy, true, JSON.stringify(probe))
    assert.match(String(probe.workflowCoreVersion), /^4\./)
    const step = await healthCheck(world, 'step', { deploymentId: 'dpl_a', timeout: 10_000 })
    assert.equal(step.healthy, true, JSON.stringify(step))
  })

  await t.test('a webhook URL resumes its run with the request; the default answer is 202', async () => {
    const runId = await startRun(world, 'dpl_inbox', workflowId(inbox, 'inbox'))
    const hook = await eventually(async () => (await world.hooks.list({ runId })).data[0])
    const res = await app.inject({ method: 'POST', url: `/.well-known/workflow/v1/webhook/${encodeURIComponent(hook.token)}`, payload: 'ping', headers: { 'content-type': 'text/plain' } })
    assert.equal(res.statusCode, 202)
    assert.deepEqual(await runOutput(world, runId), { method: 'POST', body: 'ping' })
  })

  await t.test('a webhook run can answer the request itself (respondWith: manual)', async () => {
    const runId = await startRun(world, 'dpl_inbox', workflowId(inbox, 'conversation'))
    const hook = await eventually(async () => (await world.hooks.list({ runId })).data[0])
    const res = await app.inject({ method: 'PUT', url: `/.well-known/workflow/v1/webhook/${encodeURIComponent(hook.token)}`, payload: 'hello' })
    assert.equal(res.statusCode, 201)
    assert.equal(res.body, 'thanks for hello')
    assert.equal(res.headers['x-replied-by'], 'workflow')
    assert.equal(await runOutput(world, runId), 'hello')
  })

  await t.test('an unknown webhook token is answered exactly as a createHook() token, which is no webhook: 404, no body', async () => {
    const runId = await startRun(world, 'dpl_a', workflowId(a, 'approval'), ['order-8'])
    await eventually(async () => await world.hooks.getByToken('approval:order-8').catch(() => undefined))
    // Whether a guessable token exists must not show: same status, same (no) body, same headers.
    const answer = async (token: string) => {
      const res = await app.inject({ method: 'POST', url: `/.well-known/workflow/v1/webhook/${encodeURIComponent(token)}`, payload: '{}' })
      // Per-request values (the date, the id, the rate limit's counter) aside, the headers are the same ones.
      const headers = Object.fromEntries(Object.entries(res.headers).map(([name, value]) =>
        [name, /^(date|x-workflow-correlation-id|x-ratelimit-(remaining|reset))$/.test(name) ? typeof value : value]))
      return { status: res.statusCode, body: res.body, headers }
    }
    const notWebhook = await answer('approval:order-8')
    assert.deepEqual(notWebhook.status, 404)
    assert.equal(notWebhook.body, '')
    for (const unknown of ['approval:order-9', 'nope']) assert.deepEqual(await answer(unknown), notWebhook, unknown)
    assert.equal((await world.runs.get(runId)).status, 'running')
  })

  // More than 48 redeliveries of one message: test/compute/redelivery.test.ts.
  await t.test('a run alternating sleeps and steps completes', async () => {
    assert.equal(await runOutput(world, longRun), 3)
  })
})
