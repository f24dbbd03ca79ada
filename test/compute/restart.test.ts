import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import type { FastifyInstance } from 'fastify'
import { resumeHook } from 'workflow/api'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { buildComputeWorkerApp } from '../../server.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { SEED_KEYS, tempDir } from '../helper.js'
import { deployBuild, eventually, runOutput, startRun, workflowId } from './helper.js'

/** A worker on the given directories (World data, SQLite, artifacts), as a restarted process would be. */
async function startWorker (t: TestContext, dir: string): Promise<FastifyInstance> {
  const app = buildComputeWorkerApp({
    world: createLocalWorld({ dataDir: join(dir, 'world') }),
    compute: createInProcessCompute(),
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: SEED_KEYS
  })
  t.after(() => app.close())
  await app.ready()
  return app
}

test('after a restart, waiting and pending runs continue on their own deployments', async (t) => {
  const [a, b] = await Promise.all([buildFixtureApp('A'), buildFixtureApp('B')])
  const dir = await tempDir(t)
  await deployBuild(join(dir, 'artifacts'), 'dpl_a', a)
  await deployBuild(join(dir, 'artifacts'), 'dpl_b', b)

  const first = await startWorker(t, dir)
  const waiting = await startRun(first.workflowWorld, 'dpl_a', workflowId(a, 'approval'), ['order-42'])
  await eventually(async () => await first.workflowWorld.hooks.getByToken('approval:order-42').catch(() => undefined))
  // A run whose queue message was lost (the process died between run_created and the queue).
  const world = first.workflowWorld
  const lostMessage = await startRun({ ...world, queue: async () => ({ messageId: null }) }, 'dpl_b', workflowId(b, 'sum'), [40, 2])
  assert.equal((await world.runs.get(lostMessage)).status, 'pending')
  await first.close()

  // world.start() re-queues every pending and running run; each goes to its own deployment.
  const second = await startWorker(t, dir)
  assert.deepEqual(await runOutput(second.workflowWorld, lostMessage), { total: 42, variant: 'B' })
  const greeting = await startRun(second.workflowWorld, 'dpl_a', workflowId(a, 'greet'), ['x']) // makes `second` the realm's World
  assert.equal(await runOutput(second.workflowWorld, greeting), 'hello x from A')
  await resumeHook('approval:order-42', { approved: true, by: 'after-restart' })
  assert.deepEqual(await runOutput(second.workflowWorld, waiting), { orderId: 'order-42', approved: { approved: true, by: 'after-restart' } })
})
