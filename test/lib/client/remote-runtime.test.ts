import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { ComputeClient } from '../../../lib/client/index.js'
import { createWorldForTarget } from '../../../lib/world/create-world.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { tempDir, until } from '../../helper.js'
import { startRuntimeHost, type RunOutcome } from '../../runtime-host.js'

const RUNTIME_KEY = 'test-key-runtime-world-proxy-000000001'
const OPERATOR_KEY = 'test-key-operator-runs-write-00000001'
// COMPUTE_WORKER_DELIVERY_SECRET of both sides: the worker's World signs deliveries, the runtime checks them.
const DELIVERY_SECRET = 'test-delivery-secret-0123456789abcdef'
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
  const world = createWorldForTarget({ target: 'local', localDataDir: join(dir, 'world'), localBaseUrl: deliverTo, deliverySecret: DELIVERY_SECRET })
  const worker = await startNodeComputeWorkerServer({
    world,
    sqlitePath: join(dir, 'worker.db'),
    seedApiKeys: [
      { key: RUNTIME_KEY, scopes: ['world:proxy'], name: 'runtime', rateLimitPerMinute: 100_000 },
      { key: OPERATOR_KEY, scopes: ['runs:write'], name: 'operator' }
    ],
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
  const configured = await remote.configure({ workerUrl: worker.url, apiKey: RUNTIME_KEY, deliverySecret: DELIVERY_SECRET })
  assert.deepEqual(configured, { specVersion: 3, hasCreateQueueHandler: true })

  // The local baseline resumes its hook with the SDK's resumeHook in the app; the remote run's hook
  // is resumed from outside, through the worker's POST /v1/runs/resume, once the runtime created it.
  const operator = new ComputeClient({ baseUrl: worker.url, apiKey: OPERATOR_KEY })
  const resumeThroughWorker = async ({ token, payload }: { token: string, payload: unknown }) => {
    await until(() => world.hooks.getByToken(token).then(() => true, () => undefined), `hook ${token}`)
    return await operator.resumeHook(token, payload)
  }
  const [expected, actual, resumed] = await Promise.all([
    Promise.all(CASES.map((run) => local.run(run))),
    Promise.all(CASES.map(({ hook: _resumedThroughWorker, ...run }) => remote.run(run))),
    Promise.all(CASES.flatMap((run) => run.hook === undefined ? [] : [resumeThroughWorker(run.hook)]))
  ])

  const byName = Object.fromEntries(CASES.map((run, i) => [run.workflowId.split('//').at(-1)!, actual[i]]))
  assert.equal(byName.greet.value, 'hello remote from A')
  assert.deepEqual(byName.sum.value, { total: 42, variant: 'A' })
  assert.equal(byName.sleepy.value, 'slept 300 ms, 3')
  assert.ok(byName.sleepy.events.includes('wait_completed'))
  assert.deepEqual(byName.approval.value, { orderId: '42', approved: { approved: true, by: 'ops' } })
  assert.equal(resumed[0].runId, byName.approval.runId)
  assert.ok(byName.approval.events.includes('hook_received'))
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
  const configured = await host.configure({ workerUrl: worker.url, apiKey: RUNTIME_KEY, deliverySecret: DELIVERY_SECRET })
  assert.deepEqual(configured, { specVersion: 3, hasCreateQueueHandler: true })
  // The worker's deliveries carry COMPUTE_WORKER_DELIVERY_SECRET: accepted.
  const outcome = await host.run({ workflowId: workflow('greet'), args: ['env'] })
  assert.equal(outcome.value, 'hello env from A')
  assert.equal((await world.runs.get(outcome.runId, { resolveData: 'none' })).status, 'completed')

  // Anyone else's, however well formed, is refused before it reaches the runtime (the client's delivery handler checks the delivery secret).
  const delivery = (authorization?: string) => fetch(`${host.url}/.well-known/workflow/v1/flow`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-vqs-queue-name': '__wkf_workflow_' + workflow('greet'),
      'x-vqs-message-id': 'msg_01J00000000000000000000003',
      'x-vqs-message-attempt': '1',
      ...(authorization === undefined ? {} : { authorization })
    },
    body: JSON.stringify({ runId: outcome.runId })
  })
  for (const authorization of [undefined, 'Bearer wrong-secret', `Bearer ${DELIVERY_SECRET}x`, DELIVERY_SECRET, `Basic ${DELIVERY_SECRET}`]) {
    const refused = await delivery(authorization)
    assert.equal(refused.status, 401, `authorization ${String(authorization)}`)
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer')
    assert.match((await refused.json()).error, /delivery secret/)
  }
})

test('a runtime with no delivery secret configured refuses every delivery', async (t) => {
  const build = await buildFixtureApp()
  const host = await startRuntimeHost(t, 'env', build.dir)
  const { worker } = await startWorker(t, host.url)
  await host.configure({ workerUrl: worker.url, apiKey: RUNTIME_KEY })
  const refused = await fetch(`${host.url}/.well-known/workflow/v1/step`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DELIVERY_SECRET}` },
    body: '{}'
  })
  assert.equal(refused.status, 401)
  assert.match((await refused.json()).error, /COMPUTE_WORKER_DELIVERY_SECRET/)
})
