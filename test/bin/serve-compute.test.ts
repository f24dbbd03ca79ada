import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { deployBuild, runOutput, startRun, workflowId } from '../compute/helper.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { SEED_KEYS, tempDir } from '../helper.js'
import { startStandalone } from '../standalone.js'

const FLOW_HEALTH = '/.well-known/workflow/v1/flow?__health'

async function envFor (t: TestContext): Promise<Record<string, string>> {
  const dir = await tempDir(t)
  return {
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS)
  }
}

test('the standalone server executes deployments by default and recovers pending runs at start', async (t) => {
  const env = await envFor(t)
  const [a, b] = await Promise.all([buildFixtureApp('A'), buildFixtureApp('B')])
  await deployBuild(env.COMPUTE_WORKER_ARTIFACT_DIR, 'dpl_a', a)
  await deployBuild(env.COMPUTE_WORKER_ARTIFACT_DIR, 'dpl_b', b)
  // A run recorded while no worker was running: its queue message never went anywhere.
  const offline = createLocalWorld({ dataDir: env.WORKFLOW_LOCAL_DATA_DIR })
  const runId = await startRun({ ...offline, queue: async () => ({ messageId: null }) }, 'dpl_b', workflowId(b, 'sum'), [1, 41])
  await offline.close?.()

  const worker = await startStandalone(t, env)
  assert.equal((await fetch(`${worker.url}${FLOW_HEALTH}`)).status, 200)
  // Read from the data directory the server writes, with a fresh reader each time (no cache).
  const reader = { runs: { get: async (id: string) => await createLocalWorld({ dataDir: env.WORKFLOW_LOCAL_DATA_DIR }).runs.get(id) } }
  assert.deepEqual(await runOutput(reader as never, runId), { total: 42, variant: 'B' })
  assert.ok(worker.lines.some((line) => /Re-enqueued 1 active run/.test(line)))
})

test('COMPUTE_WORKER_COMPUTE=none serves no workflow routes: execution happens elsewhere', async (t) => {
  const worker = await startStandalone(t, { ...await envFor(t), COMPUTE_WORKER_COMPUTE: 'none' })
  assert.equal((await fetch(`${worker.url}${FLOW_HEALTH}`)).status, 404)
  assert.equal((await fetch(`${worker.url}/v1/health`)).status, 200)
})
