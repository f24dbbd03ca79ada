import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ComputeClient, ConflictComputeClientError, NotFoundComputeClientError, createRemoteWorld, type Run
} from '../../lib/client/index.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS } from '../helper.js'
import { fixtureFiles } from '../public-lane.js'
import { freshDatabase, needsPostgres, postgresWorkerEnv } from '../postgres.js'
import { runBin, startStandalone, type StandaloneProcess } from '../standalone.js'

// The scenarios the worker runs on world-local (test/compute/public-lane.test.ts,
// test/bin/serve-compute.test.ts), on the built standalone server with world-postgres and its
// default in-process executor, which world-postgres's queue reaches over HTTP on loopback.

const FINISHED = new Set(['completed', 'failed', 'cancelled'])
// Generous: a loaded 2-core machine runs several test files at once.
const DEADLINE_MS = 60_000

function clientOf (worker: StandaloneProcess, apiKey: string = KEYS.admin): ComputeClient {
  return new ComputeClient({ baseUrl: worker.url, apiKey })
}

/** Polls the run through the public lane until it is over. */
async function waitForRun (client: ComputeClient, runId: string): Promise<Run> {
  const deadline = Date.now() + DEADLINE_MS
  for (;;) {
    const run = await client.getRun(runId)
    if (FINISHED.has(run.status)) return run
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish: ${JSON.stringify(run)}`)
    await sleep(100)
  }
}

/** Waits until the run has recorded an event of this type (e.g. `hook_created`). */
async function waitForEvent (client: ComputeClient, runId: string, eventType: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS
  for (;;) {
    const { data } = await client.listRunEvents(runId, { limit: 1000 })
    if (data.some((event) => event.eventType === eventType)) return
    if (Date.now() > deadline) throw new Error(`run ${runId} recorded no ${eventType}: ${data.map((event) => event.eventType).join(', ')}`)
    await sleep(100)
  }
}

/** SIGTERM, as a supervisor stops the worker: it must exit 0 (a hung close is killed at 10 s with 1). */
async function stop (worker: StandaloneProcess): Promise<void> {
  worker.child.kill('SIGTERM')
  const { code } = await worker.exited
  assert.equal(code, 0, worker.lines.join('\n'))
}

async function deployWithBin (worker: StandaloneProcess, dir: string): Promise<string> {
  const deployed = await runBin({ COMPUTE_WORKER_URL: worker.url, COMPUTE_WORKER_API_KEY: KEYS.admin }, ['deploy', dir, '--activate', '--json'])
  assert.equal(deployed.code, 0, deployed.output)
  return JSON.parse(deployed.output).id
}

test('two variables move the standalone server from world-local to world-postgres, where it runs the same scenarios (trigger, execute, hook, stream, cancel, restart)', needsPostgres, async (t: TestContext) => {
  const env = await postgresWorkerEnv(t, await freshDatabase(t))
  const [a, b] = await Promise.all([buildFixtureApp('A'), buildFixtureApp('B')])

  // First on world-local: deployments, keys and the rest of the control plane do not depend on the World.
  const { WORKFLOW_TARGET_WORLD: _world, WORKFLOW_POSTGRES_URL: _url, ...localEnv } = env
  let worker = await startStandalone(t, { ...localEnv, WORKFLOW_LOCAL_DATA_DIR: join(dirname(env.COMPUTE_WORKER_SQLITE_PATH), 'world') })
  let client = clientOf(worker)
  // A with the bin (as an operator deploys) and active; B with the client.
  const deploymentA = await deployWithBin(worker, a.dir)
  const deploymentB = (await client.createDeployment({ manifest: b.manifest, files: await fixtureFiles(b) })).id
  const onLocal = await client.triggerRun({ workflowName: 'greet', input: ['local'] })
  assert.equal((await waitForRun(client, onLocal.runId)).output, 'hello local from A')
  await stop(worker)

  // Then the same worker with the two variables that move it to PostgreSQL, its control plane
  // copied over first (twice: the second run finds everything there and copies nothing).
  const copyArgs = ['migrate', '--from-sqlite', env.COMPUTE_WORKER_SQLITE_PATH, '--artifacts', env.COMPUTE_WORKER_ARTIFACT_DIR, '--json']
  const copied = await runBin(env, copyArgs)
  assert.equal(copied.code, 0, copied.output)
  const copy = JSON.parse(copied.output).copied
  assert.deepEqual([copy.deployments, copy.activeDeployment], [{ found: 2, copied: 2 }, { source: deploymentA, target: deploymentA }])
  assert.equal(copy.apiKeys.found, copy.apiKeys.copied)
  assert.ok(copy.auditRows.copied >= 3, 'the uploads, the activation and the trigger')
  const again = await runBin(env, copyArgs)
  assert.equal(again.code, 0, again.output)
  const second = JSON.parse(again.output).copied
  assert.deepEqual([second.apiKeys.copied, second.deployments.copied, second.idempotencyRecords.copied, second.auditRows.copied], [0, 0, 0, 0])
  assert.equal(second.auditRows.found, copy.auditRows.found)
  // The copies must not come from the files still on disk: the PostgreSQL worker starts without them.
  await rm(env.COMPUTE_WORKER_ARTIFACT_DIR, { recursive: true, force: true })
  worker = await startStandalone(t, env)
  client = clientOf(worker)
  assert.equal((await client.health()).world.target, '@workflow/world-postgres')
  assert.equal((await client.getActiveDeployment()).id, deploymentA)
  // Runs stay in the World that recorded them: world-local's are not moved.
  await assert.rejects(client.getRun(onLocal.runId), (error) => error instanceof NotFoundComputeClientError && error.code === 'run_not_found')

  await t.test('runs execute to completion with their output', async () => {
    const [greet, sum] = await Promise.all([
      client.triggerRun({ workflowName: 'greet', input: ['postgres'] }),
      client.triggerRun({ workflowName: 'sum', input: [20, 22] })
    ])
    assert.equal(greet.deploymentId, deploymentA)
    const runs = await Promise.all([waitForRun(client, greet.runId), waitForRun(client, sum.runId)])
    assert.deepEqual(runs.map((run) => [run.status, run.output]), [
      ['completed', 'hello postgres from A'],
      ['completed', { total: 42, variant: 'A' }]
    ])
  })

  await t.test('a trigger repeated with its Idempotency-Key answers the same run', async () => {
    const first = await client.triggerRun({ workflowName: 'sum', input: [1, 1] }, { idempotencyKey: 'order-7' })
    const again = await client.triggerRun({ workflowName: 'sum', input: [1, 1] }, { idempotencyKey: 'order-7' })
    assert.deepEqual([first.replayed, again.replayed, again.runId], [false, true, first.runId])
    assert.deepEqual((await waitForRun(client, first.runId)).output, { total: 2, variant: 'A' })
  })

  await t.test('two deployments side by side: each run on its own build', async () => {
    const [onA, onB] = await Promise.all([
      client.triggerRun({ workflowName: 'sum', input: [1, 2] }),
      client.triggerRun({ workflowName: 'sum', input: [3, 4], deploymentId: deploymentB })
    ])
    const runs = await Promise.all([waitForRun(client, onA.runId), waitForRun(client, onB.runId)])
    assert.deepEqual(runs.map((run) => [run.deploymentId, run.status, run.output]), [
      [deploymentA, 'completed', { total: 3, variant: 'A' }],
      [deploymentB, 'completed', { total: 7, variant: 'B' }]
    ])
  })

  await t.test('a run that sleeps wakes up and completes', async () => {
    const { runId } = await client.triggerRun({ workflowName: 'sleepy', input: [1_000] })
    const run = await waitForRun(client, runId)
    assert.deepEqual([run.status, run.output], ['completed', 'slept 1000 ms, 3'])
    const { data } = await client.listRunEvents(runId)
    assert.ok(data.some((event) => event.eventType === 'wait_completed'))
  })

  await t.test('POST /v1/runs/resume wakes a run waiting on its hook', async () => {
    const { runId } = await client.triggerRun({ workflowName: 'approval', input: ['pg-1'] })
    await waitForEvent(client, runId, 'hook_created')
    assert.equal((await client.resumeHook('approval:pg-1', { approved: true, by: 'ops' })).runId, runId)
    const run = await waitForRun(client, runId)
    assert.deepEqual([run.status, run.output], ['completed', { orderId: 'pg-1', approved: { approved: true, by: 'ops' } }])
  })

  await t.test('GET /v1/runs/:id/stream carries what the steps wrote, live, to its end', async () => {
    const { runId } = await client.triggerRun({ workflowName: 'streamer', input: [['one', 'two', 'three']] })
    const values: unknown[] = []
    for await (const { value } of client.streamRun(runId)) values.push(value)
    assert.deepEqual(values, ['one', 'two', 'three'])
    assert.equal((await waitForRun(client, runId)).output, 3)
  })

  await t.test('a step that throws FatalError fails its run', async () => {
    const { runId } = await client.triggerRun({ workflowName: 'fatal', input: ['no stock'] })
    const run = await waitForRun(client, runId)
    assert.equal(run.status, 'failed')
    assert.match(run.error?.message ?? '', /fatal: no stock/)
  })

  await t.test('a waiting run is cancelled; a second cancel is 409 run_already_finished', async () => {
    const { runId } = await client.triggerRun({ workflowName: 'approval', input: ['pg-2'] })
    await waitForEvent(client, runId, 'hook_created')
    assert.equal((await client.cancelRun(runId)).status, 'cancelled')
    await assert.rejects(client.cancelRun(runId), (error) => error instanceof ConflictComputeClientError && error.code === 'run_already_finished')
    await assert.rejects(client.resumeHook('approval:pg-2', {}), (error) => error instanceof NotFoundComputeClientError && error.code === 'hook_not_found')
    assert.equal((await client.getRun(runId)).status, 'cancelled')
  })

  await t.test('a restart with deliveries in flight: SIGTERM exits 0, and every run completes on the restarted worker', async () => {
    const { runId: waiting } = await client.triggerRun({ workflowName: 'approval', input: ['pg-3'] })
    await waitForEvent(client, waiting, 'hook_created')
    // Stopped while these are being delivered: the queue's keep-alive connections must not hold the close.
    const inFlight = await Promise.all([
      client.triggerRun({ workflowName: 'sleepy', input: [1_500] }),
      client.triggerRun({ workflowName: 'sum', input: [5, 5] }),
      client.triggerRun({ workflowName: 'sum', input: [6, 6], deploymentId: deploymentB })
    ])
    await stop(worker)

    // The same database, SQLite file and artifacts: what a supervisor's restart gives.
    worker = await startStandalone(t, env)
    client = clientOf(worker)
    assert.equal((await client.getRun(waiting)).status, 'running')
    await client.resumeHook('approval:pg-3', { approved: true, by: 'after-restart' })
    const runs = await Promise.all([waiting, ...inFlight.map((run) => run.runId)].map(async (runId) => await waitForRun(client, runId)))
    assert.deepEqual(runs.map((run) => [run.status, run.output]), [
      ['completed', { orderId: 'pg-3', approved: { approved: true, by: 'after-restart' } }],
      ['completed', 'slept 1500 ms, 3'],
      ['completed', { total: 10, variant: 'A' }],
      ['completed', { total: 12, variant: 'B' }]
    ])
  })

  await stop(worker)
})

test('world-postgres: two workers on one database share runs, hooks and the queue, and the control plane with them', needsPostgres, async (t: TestContext) => {
  const url = await freshDatabase(t)
  const a = await buildFixtureApp('A')
  const env1 = await postgresWorkerEnv(t, url)
  const worker1 = await startStandalone(t, env1)
  const deploymentA = await deployWithBin(worker1, a.dir)

  // Worker 2 starts with an empty directory of its own: the deployment reaches it through the database.
  const env2 = await postgresWorkerEnv(t, url)
  const worker2 = await startStandalone(t, env2)
  const [client1, client2] = [clientOf(worker1), clientOf(worker2)]
  assert.equal((await client2.getActiveDeployment()).id, deploymentA)

  await t.test('runs triggered on worker 1 execute on either worker and read the same from worker 2', async () => {
    const inputs = [1, 2, 3, 4, 5, 6]
    const triggered = await Promise.all(inputs.map(async (n) => await client1.triggerRun({ workflowName: 'sum', input: [n, n] })))
    const runs = await Promise.all(triggered.map(async ({ runId }) => await waitForRun(client2, runId)))
    assert.deepEqual(runs.map((run) => [run.status, run.output]), inputs.map((n) => ['completed', { total: 2 * n, variant: 'A' }]))
    // …and through worker 2's internal lane, as a Workflow SDK runtime sees them.
    const lane = createRemoteWorld({ baseUrl: worker2.url, apiKey: KEYS.worldProxy })
    const seen = await lane.runs.get(triggered[0].runId, { resolveData: 'none' })
    assert.deepEqual([seen.status, seen.deploymentId], ['completed', deploymentA])
  })

  await t.test('keys, idempotency records and deployments live in the database both workers share', async () => {
    // A key created by the CLI against the database works on both workers.
    const created = await runBin(env2, ['keys', 'create', '--scopes', 'runs:read', '--json'])
    assert.equal(created.code, 0, created.output)
    const { key } = JSON.parse(created.output)
    await clientOf(worker1, key).listRuns({ limit: 1 })
    await clientOf(worker2, key).listRuns({ limit: 1 })

    // A retry reaching the other worker gets the first answer.
    const first = await client1.triggerRun({ workflowName: 'greet', input: ['once'] }, { idempotencyKey: 'same-key' })
    const retry = await client2.triggerRun({ workflowName: 'greet', input: ['once'] }, { idempotencyKey: 'same-key' })
    assert.deepEqual([retry.runId, first.replayed, retry.replayed], [first.runId, false, true])
    assert.equal((await waitForRun(client2, first.runId)).output, 'hello once from A')

    // A build uploaded to worker 2 is known to worker 1 at once.
    const again = await client2.createDeployment({ manifest: a.manifest, files: await fixtureFiles(a) })
    assert.equal(again.digest, (await client1.getDeployment(deploymentA)).digest)
    assert.equal((await client1.getDeployment(again.id)).id, again.id)
  })

  await t.test('hooks are shared: runs waiting on worker 1 are cancelled and resumed through worker 2, and continue there once worker 1 dies', async () => {
    const [resumable, cancellable] = await Promise.all([
      client1.triggerRun({ workflowName: 'approval', input: ['shared-1'] }),
      client1.triggerRun({ workflowName: 'approval', input: ['shared-2'] })
    ])
    await waitForEvent(client2, resumable.runId, 'hook_created')
    await waitForEvent(client2, cancellable.runId, 'hook_created')
    assert.equal((await client2.cancelRun(cancellable.runId)).status, 'cancelled')
    await assert.rejects(client1.cancelRun(cancellable.runId), (error) => error instanceof ConflictComputeClientError && error.code === 'run_already_finished')

    // No graceful close: worker 2 is the only one left to execute the rest of the run.
    worker1.child.kill('SIGKILL')
    await worker1.exited
    assert.equal((await client2.resumeHook('approval:shared-1', { approved: true, by: 'worker 2' })).runId, resumable.runId)
    const resumed = await waitForRun(client2, resumable.runId)
    assert.deepEqual([resumed.status, resumed.output], ['completed', { orderId: 'shared-1', approved: { approved: true, by: 'worker 2' } }])
  })

  await stop(worker2)
})
