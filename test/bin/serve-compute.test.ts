import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { deployBuild, runOutput, startRun, workflowId } from '../compute/helper.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, SEED_KEYS, bearer, tempDir, until } from '../helper.js'
import { runBin, startStandalone } from '../standalone.js'

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

test('`compute-worker deploy <build> --activate` then a trigger: the build runs to completion', async (t) => {
  const env = await envFor(t)
  const worker = await startStandalone(t, env)
  const build = await buildFixtureApp('A')
  const deployed = await runBin({ COMPUTE_WORKER_URL: worker.url, COMPUTE_WORKER_API_KEY: KEYS.admin }, ['deploy', build.dir, '--activate', '--json'])
  assert.equal(deployed.code, 0, deployed.output)

  const headers = { ...bearer(KEYS.admin), 'content-type': 'application/json' }
  const trigger = await fetch(`${worker.url}/v1/runs`, { method: 'POST', headers: { ...headers, 'idempotency-key': 'first' }, body: JSON.stringify({ workflowName: 'greet', input: ['world'] }) })
  assert.equal(trigger.status, 202)
  const { runId } = await trigger.json()
  let run: { status: string, output?: unknown } = { status: 'pending' }
  for (const deadline = Date.now() + 60_000; !['completed', 'failed'].includes(run.status) && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    run = await (await fetch(`${worker.url}/v1/runs/${runId}`, { headers })).json()
  }
  assert.deepEqual([run.status, run.output], ['completed', 'hello world from A'])
})

test('COMPUTE_WORKER_COMPUTE=none serves no workflow routes: execution happens elsewhere', async (t) => {
  const worker = await startStandalone(t, { ...await envFor(t), COMPUTE_WORKER_COMPUTE: 'none' })
  assert.equal((await fetch(`${worker.url}${FLOW_HEALTH}`)).status, 404)
  assert.equal((await fetch(`${worker.url}/v1/health`)).status, 200)
})

test('a hook token sent to a webhook URL never reaches the output: the deployment\'s console is logged, tagged and redacted', async (t) => {
  const env = await envFor(t)
  const worker = await startStandalone(t, env)
  const deployed = await runBin({ COMPUTE_WORKER_URL: worker.url, COMPUTE_WORKER_API_KEY: KEYS.admin }, ['deploy', (await buildFixtureApp('A')).dir, '--activate', '--json'])
  assert.equal(deployed.code, 0, deployed.output)
  const headers = { ...bearer(KEYS.admin), 'content-type': 'application/json' }
  const trigger = await fetch(`${worker.url}/v1/runs`, { method: 'POST', headers: { ...headers, 'idempotency-key': 'hook' }, body: JSON.stringify({ workflowName: 'approval', input: ['s3cr3t-7'] }) })
  const { runId } = await trigger.json()
  await until(async () => {
    const { data } = await (await fetch(`${worker.url}/v1/runs/${runId}/events`, { headers })).json()
    return data.some((event: { eventType: string }) => event.eventType === 'hook_created') ? true : undefined
  }, 'the hook')

  // A createHook() token is no webhook: the SDK's webhook handler refuses it and logs the error, token and all.
  const refused = await fetch(`${worker.url}/.well-known/workflow/v1/webhook/${encodeURIComponent('approval:s3cr3t-7')}`, { method: 'POST', body: '{}' })
  assert.deepEqual([refused.status, await refused.text()], [404, ''])
  const logged = await until(async () => worker.lines.find((line) => line.includes('Error during resumeWebhook')), 'the deployment\'s output')
  const entry = JSON.parse(logged)
  assert.equal(entry.deploymentId, JSON.parse(deployed.output).id)
  assert.equal(entry.stream, 'stderr')
  // The SDK's error carries the token as a property, printed a few lines further down.
  await until(async () => worker.lines.find((line) => line.includes("token: '[redacted]'")), 'the token, redacted')
  for (const form of ['approval:s3cr3t-7', 'approval%3As3cr3t-7']) {
    assert.equal(worker.lines.some((line) => line.includes(form)), false, `${form} in the output`)
  }
})
