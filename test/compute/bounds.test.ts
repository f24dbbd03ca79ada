import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { build } from '../helper.js'
import { deployBuild, eventually, runOutput, startRun, workflowId } from './helper.js'

test('beyond maxLoadedDeployments the least recently used idle deployment is unloaded', async (t) => {
  const [a, b] = await Promise.all([buildFixtureApp('A'), buildFixtureApp('B')])
  const compute = createInProcessCompute({ maxLoadedDeployments: 1 })
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld
  await deployBuild(options.artifactDir!, 'dpl_a', a)
  await deployBuild(options.artifactDir!, 'dpl_b', b)
  // A deployment busy with a delivery is not unloaded: wait until the last one has answered.
  const idle = async (): Promise<void> => {
    await eventually(async () => (await compute.health()).threads.every((thread) => thread.inFlight === 0) ? true : undefined)
  }

  assert.deepEqual(await runOutput(world, await startRun(world, 'dpl_a', workflowId(a, 'sum'), [1, 2])), { total: 3, variant: 'A' })
  await idle()
  assert.deepEqual(await runOutput(world, await startRun(world, 'dpl_b', workflowId(b, 'sum'), [3, 4])), { total: 7, variant: 'B' })
  await idle()

  const ready = await app.inject({ method: 'GET', url: '/v1/health/ready' })
  assert.equal(ready.statusCode, 200)
  const detail = ready.json().checks.compute.detail
  assert.deepEqual(detail.loaded, ['dpl_b'])
  assert.deepEqual(detail.threads, [{ deploymentId: 'dpl_b', state: 'answering', inFlight: 0 }])
  assert.equal(detail.maxLoadedDeployments, 1)
  assert.equal(detail.loads, 2)

  // The unloaded deployment is loaded again on its next delivery (and the other one unloaded).
  assert.deepEqual(await runOutput(world, await startRun(world, 'dpl_a', workflowId(a, 'sum'), [5, 6])), { total: 11, variant: 'A' })
  await idle()
  const health = await compute.health()
  assert.deepEqual(health.loaded, ['dpl_a'])
  assert.equal(health.loads, 3)
  assert.equal(health.crashes, 0)
})

test('idle deployments are unloaded after idleUnloadMs; one past its heap limit is restarted', async (t) => {
  const a = await buildFixtureApp('A')
  const compute = createInProcessCompute({ idleUnloadMs: 1_000, threadMemoryMb: 128 })
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld
  await deployBuild(options.artifactDir!, 'dpl_a', a)

  await t.test('unloaded after idleUnloadMs', async () => {
    assert.equal(await runOutput(world, await startRun(world, 'dpl_a', workflowId(a, 'greet'), ['ida'])), 'hello ida from A')
    const health = await eventually(async () => {
      const report = await compute.health()
      return report.loaded.length === 0 ? report : undefined
    })
    assert.equal(health.loads, 1)
    assert.equal(health.crashes, 0)
    assert.deepEqual(health.crashed, [])
  })

  await t.test('a step that exhausts its thread heap ends the thread; the retry runs in a new one', async () => {
    const runId = await startRun(world, 'dpl_a', workflowId(a, 'memoryHog'))
    // Reported until the step's retry (5 s later) starts the deployment again.
    const crashed = await eventually(async () => {
      const report = await compute.health()
      return report.crashed.includes('dpl_a') ? report : undefined
    })
    assert.equal(crashed.crashes, 1)
    assert.equal(await runOutput(world, runId), 'recovered on attempt 2')
    const after = await compute.health()
    assert.deepEqual(after.crashed, [])
    assert.equal((await app.inject({ url: '/v1/health/ready' })).statusCode, 200)
  })
})
