import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { tempDir } from '../../helper.js'
import { startRuntimeHost, type RunOutcome } from '../../runtime-host.js'

const RUNTIME_KEY = 'test-key-runtime-world-proxy-000000001'
const workflow = (name: string) => `workflow//./workflows/demo//${name}`

const CASES = [
  { workflowId: workflow('greet'), args: ['remote'] },
  { workflowId: workflow('sum'), args: [2, 40] },
  { workflowId: workflow('sleepy'), args: [300] },
  { workflowId: workflow('approval'), args: ['42'], hook: { token: 'approval:42', payload: { approved: true, by: 'ops' } } },
  { workflowId: workflow('streamer'), args: [['alpha', 'beta', 'gamma']], stream: true },
  { workflowId: workflow('fatal'), args: ['nope'] },
  { workflowId: workflow('retried'), args: [1] }
]

/** What must be the same whichever World ran it. */
function comparable (outcome: RunOutcome) {
  const { runId: _runId, ...rest } = outcome
  return rest
}

async function startWorker (t: import('node:test').TestContext, deliverTo: string) {
  const dir = await tempDir(t)
  // COMPUTE_WORKER_COMPUTE=none: the worker runs no code; its world-local delivers to the app.
  const world = createLocalWorld({ dataDir: join(dir, 'world'), baseUrl: deliverTo })
  const worker = await startNodeComputeWorkerServer({
    world,
    sqlitePath: join(dir, 'worker.db'),
    seedApiKeys: [{ key: RUNTIME_KEY, scopes: ['world:proxy'], name: 'runtime', rateLimitPerMinute: 100_000 }],
    port: 0
  })
  t.after(() => worker.close())
  return { worker, world }
}

test('the SDK runtime on createRemoteWorld runs steps, a sleep, a hook, a stream, retries and a FatalError as on a local World', async (t) => {
  const build = await buildFixtureApp()
  const dir = await tempDir(t)
  const [local, remote] = await Promise.all([
    startRuntimeHost(t, 'local', build.dir, join(dir, 'local-world')),
    startRuntimeHost(t, 'remote', build.dir)
  ])
  const { worker, world } = await startWorker(t, remote.url)
  await local.configure({})
  const configured = await remote.configure({ workerUrl: worker.url, apiKey: RUNTIME_KEY })
  assert.deepEqual(configured, { specVersion: 3, hasCreateQueueHandler: true })

  // Hook resumed through the remote World the way resumeHook does (hooks.getByToken, runs.get,
  // hook_received, queue). Switch to ComputeClient.resumeHook (POST /v1/runs/resume) once main has it.
  const [expected, actual] = await Promise.all([
    Promise.all(CASES.map((run) => local.run(run))),
    Promise.all(CASES.map((run) => remote.run(run)))
  ])

  const byName = Object.fromEntries(CASES.map((run, i) => [run.workflowId.split('//').at(-1)!, actual[i]]))
  assert.equal(byName.greet.value, 'hello remote from A')
  assert.deepEqual(byName.sum.value, { total: 42, variant: 'A' })
  assert.equal(byName.sleepy.value, 'slept 300 ms, 3')
  assert.ok(byName.sleepy.events.includes('wait_completed'))
  assert.deepEqual(byName.approval.value, { orderId: '42', approved: { approved: true, by: 'ops' } })
  assert.deepEqual(byName.streamer.streamed, ['alpha', 'beta', 'gamma'])
  assert.equal(byName.streamer.value, 3)
  assert.equal(byName.fatal.status, 'failed')
  assert.equal(byName.fatal.error?.name, 'WorkflowRunFailedError')
  assert.equal(byName.fatal.error?.cause, 'fatal: nope')
  assert.equal(byName.retried.value, 2)
  assert.ok(byName.retried.events.includes('step_retrying'))

  for (let i = 0; i < CASES.length; i++) {
    assert.deepStrictEqual(comparable(actual[i]), comparable(expected[i]), CASES[i].workflowId)
    // The remote runs live in the worker's World, not in the app process.
    const stored = await world.runs.get(actual[i].runId, { resolveData: 'none' })
    assert.equal(stored.status, actual[i].status)
  }
})

test('WORKFLOW_TARGET_WORLD=@workflow-studio/compute-worker/client: the SDK require()s the client and runs on the worker', async (t) => {
  const build = await buildFixtureApp()
  const host = await startRuntimeHost(t, 'env', build.dir)
  const { worker, world } = await startWorker(t, host.url)
  const configured = await host.configure({ workerUrl: worker.url, apiKey: RUNTIME_KEY })
  assert.deepEqual(configured, { specVersion: 3, hasCreateQueueHandler: true })
  const outcome = await host.run({ workflowId: workflow('greet'), args: ['env'] })
  assert.equal(outcome.value, 'hello env from A')
  assert.equal((await world.runs.get(outcome.runId, { resolveData: 'none' })).status, 'completed')
})
