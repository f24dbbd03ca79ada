import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, bearer, until } from '../helper.js'
import { freshDatabase, needsPostgres, postgresWorkerEnv, query } from '../postgres.js'
import { fixtureFiles } from '../public-lane.js'
import { runBin, startStandalone, type StandaloneProcess } from '../standalone.js'

// Three worker processes of the built server on one database (world-postgres and the control plane
// in it), started once and shared by the scenarios that leave them running.

interface Worker extends StandaloneProcess { name: string }

async function startWorker (t: TestContext, env: Record<string, string>, name: string): Promise<Worker> {
  return { ...await startStandalone(t, { ...env, COMPUTE_WORKER_NAME: name }), name }
}

async function post (worker: Worker, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  const res = await fetch(`${worker.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

async function get (worker: Worker, path: string, key: string): Promise<{ status: number, body: any }> {
  const res = await fetch(`${worker.url}${path}`, { headers: bearer(key) })
  return { status: res.status, body: await res.json() }
}

const trigger = async (worker: Worker, idempotencyKey: string, key: string = KEYS.triggerWrite) =>
  await post(worker, '/v1/runs', { workflowName: 'sum', input: [1, 2] }, { ...bearer(key), 'idempotency-key': idempotencyKey })

const WEBHOOK_SECRET = 'cluster-webhook-secret'

async function deliverWebhook (worker: Worker, delivery: string): Promise<{ status: number, body: any }> {
  const body = JSON.stringify({ ref: 'refs/heads/main' })
  const res = await fetch(`${worker.url}/v1/webhooks/github`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': 'sha256=' + createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')
    }
  })
  return { status: res.status, body: await res.json() }
}

const runCount = async (database: string): Promise<number> =>
  Number((await query<{ count: string }>(database, 'SELECT count(*) FROM workflow.workflow_runs'))[0].count)

test('three workers on one PostgreSQL act as one', needsPostgres, async (t) => {
  const database = await freshDatabase(t)
  // The default in-process executor: world-postgres's queue hands each run to whichever worker takes it.
  const env = await postgresWorkerEnv(t, database, {
    COMPUTE_WORKER_WEBHOOKS: JSON.stringify({ github: { scheme: 'github', secret: WEBHOOK_SECRET, trigger: { workflowName: 'sum' } } })
  })
  const [a, b, c] = await Promise.all(['worker-a', 'worker-b', 'worker-c'].map(async (name) => await startWorker(t, env, name)))
  const workers = [a, b, c]

  await t.test('deploy on A, activate on B, trigger on C: the run executes', async () => {
    const fixture = await buildFixtureApp()
    const deployed = await post(a, '/v1/deployments', { manifest: fixture.manifest, files: await fixtureFiles(fixture) }, bearer(KEYS.admin))
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body))
    const activated = await post(b, `/v1/deployments/${deployed.body.id}/activate`, {}, bearer(KEYS.admin))
    assert.equal(activated.status, 200, JSON.stringify(activated.body))
    const triggered = await trigger(c, 'after-activation')
    assert.equal(triggered.status, 202, JSON.stringify(triggered.body))
    assert.equal(triggered.body.deploymentId, deployed.body.id)
    const done = await until(async () => {
      const run = (await get(a, `/v1/runs/${triggered.body.runId as string}`, KEYS.runsRead)).body
      return ['completed', 'failed', 'cancelled'].includes(run.status) ? run : undefined
    }, 'the run to finish')
    assert.deepEqual([done.status, done.output], ['completed', { total: 3, variant: 'A' }])
  })

  await t.test('50 concurrent triggers of one key spread over the three: one run, 50 identical answers', async () => {
    const before = await runCount(database)
    const answers = await Promise.all(Array.from({ length: 50 }, async (_, i) => await trigger(workers[i % 3], 'one-key')))
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([202]))
    assert.equal(new Set(answers.map((answer) => JSON.stringify(answer.body))).size, 1)
    assert.equal(await runCount(database), before + 1)
  })

  await t.test('one webhook delivery to A and its retry to B: one run', async () => {
    const before = await runCount(database)
    const first = await deliverWebhook(a, 'delivery-1')
    assert.equal(first.status, 202, JSON.stringify(first.body))
    const retry = await deliverWebhook(b, 'delivery-1')
    // The provider's retry is recognised as the same delivery (200, as on one worker) and names the same run.
    assert.deepEqual([retry.status, retry.body.runId], [200, first.body.runId])
    assert.equal(await runCount(database), before + 1)
  })

  await t.test('a key revoked (by the CLI against the database) is refused by every worker on its next request', async () => {
    const created = await runBin(env, ['keys', 'create', '--scopes', 'runs:read', '--json'])
    assert.equal(created.code, 0, created.output)
    const { key, id } = JSON.parse(created.output)
    for (const worker of workers) assert.equal((await get(worker, '/v1/runs?limit=1', key)).status, 200)
    const revoked = await runBin(env, ['keys', 'revoke', id])
    assert.equal(revoked.code, 0, revoked.output)
    for (const worker of workers) assert.equal((await get(worker, '/v1/runs?limit=1', key)).status, 401)
  })

  await t.test('the audit log is one for the cluster, each row naming the worker that wrote it', async () => {
    const rows = (await get(a, '/v1/audit?action=runs.trigger&limit=200', KEYS.auditRead)).body.data as Array<{ worker: string | null }>
    assert.deepEqual(new Set(rows.map((row) => row.worker)), new Set(['worker-a', 'worker-b', 'worker-c']))
  })

  await t.test('the per-key rate limit holds across the three: 60 a minute, 200 requests round-robin', async () => {
    const created = await runBin(env, ['keys', 'create', '--scopes', 'runs:read', '--rate-limit', '60', '--json'])
    const { key } = JSON.parse(created.output)
    const statuses: number[] = []
    for (let i = 0; i < 200; i++) statuses.push((await get(workers[i % 3], '/v1/runs?limit=1', key)).status)
    assert.equal(statuses.filter((status) => status === 200).length, 60)
    assert.equal(statuses.filter((status) => status === 429).length, 140)
  })

  await t.test('SIGKILL A in a burst of 100 triggers, retry every key on B: none lost, none doubled', async () => {
    const before = await runCount(database)
    const keys = Array.from({ length: 100 }, (_, i) => `burst-${i}`)
    const burst = keys.map(async (key, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 3))
      return await trigger(a, key).catch(() => undefined)
    })
    await until(async () => (await runCount(database)) > 3 ? true : undefined, 'part of the burst to land')
    a.child.kill('SIGKILL')
    await a.exited
    await Promise.all(burst)
    const retried = await Promise.all(keys.map(async (key) => await trigger(b, key)))
    assert.deepEqual(new Set(retried.map((answer) => answer.status)), new Set([202]), JSON.stringify(retried.find((answer) => answer.status !== 202)?.body))
    const runIds = retried.map((answer) => answer.body.runId as string)
    assert.equal(new Set(runIds).size, 100, 'one run per key')
    const stored = await query<{ id: string }>(database, `SELECT id FROM workflow.workflow_runs WHERE id IN (${runIds.map((id) => `'${id}'`).join(', ')})`)
    assert.equal(stored.length, 100, 'every key has its run')
    const rows = await query<{ count: string }>(database, "SELECT count(*) FROM compute_worker.idempotency_records WHERE idempotency_key LIKE 'burst-%'")
    assert.equal(rows[0].count, '100')
    assert.equal(await runCount(database), before + 100, 'no run started twice for one key')
  })

  await t.test('every worker restarted one by one under a steady trigger load: every accepted trigger has its run, and it completes', async () => {
    // A was killed above: a new one joins, then each of the three is stopped (SIGTERM) and replaced in turn.
    const live: Worker[] = [await startWorker(t, env, 'worker-a2'), b, c]
    const accepted: string[] = []
    let sent = 0
    const loadEnds = new AbortController()
    const load = (async () => {
      while (!loadEnds.signal.aborted) {
        // As a load balancer does, only workers that are not shutting down get requests.
        const answer = await trigger(live[sent % live.length], `rolling-${sent++}`).catch(() => undefined)
        if (answer?.status === 202) accepted.push(answer.body.runId)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    for (const name of ['worker-a3', 'worker-b2', 'worker-c2']) {
      const leaving = live.shift() as Worker
      const acceptedBefore = accepted.length
      leaving.child.kill('SIGTERM')
      assert.equal((await leaving.exited).code, 0, leaving.lines.join('\n'))
      live.push(await startWorker(t, env, name))
      await until(async () => accepted.length > acceptedBefore + 5 ? true : undefined, `triggers accepted after ${leaving.name} left`)
    }
    loadEnds.abort()
    await load
    assert.ok(accepted.length > 20, `a steady load was accepted (${accepted.length} of ${sent})`)
    for (const runId of accepted) {
      const run = await until(async () => {
        const read = await get(live[0], `/v1/runs/${runId}`, KEYS.runsRead)
        return read.status === 200 && ['completed', 'failed', 'cancelled'].includes(read.body.status) ? read.body : undefined
      }, `run ${runId} to finish`)
      assert.equal(run.status, 'completed', JSON.stringify(run))
    }
  })
})
