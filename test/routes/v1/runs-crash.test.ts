import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import Database from 'better-sqlite3'
import { tempDir } from '../../helper.js'
import { startStandalone, type StandaloneProcess } from '../../standalone.js'

const KEY = 'crash-test-admin-key-000000000000001'
const KEYS_JSON = JSON.stringify([{ key: KEY, scopes: ['trigger:write', 'runs:read', 'deploy:write', 'deploy:read'], rateLimitPerMinute: 1_000_000 }])
const MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/a.ts': { job: { workflowId: 'workflow//./workflows/a//job' } } } }
const BURST = 40

async function call (url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body)
  })
}

test('SIGKILL in the middle of a burst of triggers: after restart, one run per key, every accepted run in the World', async (t) => {
  const dir = await tempDir(t)
  const env = {
    COMPUTE_WORKER_COMPUTE: 'none',
    COMPUTE_WORKER_API_KEYS: KEYS_JSON,
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    // Nobody executes these runs; deliveries fail fast instead of searching for a port.
    WORKFLOW_LOCAL_BASE_URL: 'http://127.0.0.1:9'
  }
  const first: StandaloneProcess = await startStandalone(t, env)
  const deployment = await (await call(first.url, '/v1/deployments', { manifest: MANIFEST })).json()
  assert.equal((await call(first.url, `/v1/deployments/${deployment.id}/activate`, {})).status, 200)

  const bodies = Array.from({ length: BURST }, (_, i) => ({ workflowName: 'job', input: [i, { key: `k-${i}` }] }))
  const acceptedBeforeCrash = new Map<number, string>()
  let killed = false
  const burst = bodies.map(async (body, i) => {
    try {
      const res = await call(first.url, '/v1/runs', body, { 'idempotency-key': `burst-${i}` })
      const answer = await res.json()
      if (res.status === 202 && !killed) acceptedBeforeCrash.set(i, answer.runId)
    } catch {
      // The connection died with the process.
    }
    if (acceptedBeforeCrash.size >= BURST / 4 && !killed) {
      killed = true
      first.child.kill('SIGKILL')
    }
  })
  await Promise.all(burst)
  if (!killed) first.child.kill('SIGKILL')
  const exit = await first.exited
  assert.equal(exit.signal, 'SIGKILL')
  assert.ok(acceptedBeforeCrash.size >= 1 && acceptedBeforeCrash.size < BURST, `accepted before the crash: ${acceptedBeforeCrash.size}`)

  const left = new Database(env.COMPUTE_WORKER_SQLITE_PATH, { readonly: true })
  const states = left.prepare('SELECT state, COUNT(*) AS n FROM idempotency_records GROUP BY state').all()
  left.close()
  t.diagnostic(`at the crash: ${acceptedBeforeCrash.size} answered 202, records ${JSON.stringify(states)}`)

  const second = await startStandalone(t, env)
  const retried = await Promise.all(bodies.map(async (body, i) => {
    const res = await call(second.url, '/v1/runs', body, { 'idempotency-key': `burst-${i}` })
    assert.equal(res.status, 202, `key ${i}: ${res.status}`)
    return (await res.json()).runId as string
  }))
  for (const [i, runId] of acceptedBeforeCrash) assert.equal(retried[i], runId, `key ${i} kept its run`)
  assert.equal(new Set(retried).size, BURST, 'one run id per key')

  const world = createLocalWorld({ dataDir: env.WORKFLOW_LOCAL_DATA_DIR })
  const runs = await world.runs.list({ pagination: { limit: 1000 }, resolveData: 'none' })
  assert.deepEqual(runs.data.map((run) => run.runId).sort(), [...retried].sort(), 'exactly the retried runs exist, no more')
  for (const runId of acceptedBeforeCrash.values()) assert.equal((await world.runs.get(runId, { resolveData: 'none' })).runId, runId)
  // A second retry round only replays.
  const replay = await call(second.url, '/v1/runs', bodies[0], { 'idempotency-key': 'burst-0' })
  assert.equal(replay.headers.get('idempotent-replayed'), 'true')
  await world.close?.()
})
