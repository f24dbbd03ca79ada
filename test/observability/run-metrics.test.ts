import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { KEYS, bearer, build, until } from '../helper.js'
import { parsePrometheusText, valueOf, type Sample } from '../prometheus-text.js'
import { deployFixture, triggerRun, waitForRun } from '../public-lane.js'

const finished = (run: { status: string }) => ['completed', 'failed', 'cancelled'].includes(run.status)
const GITHUB_SECRET = 'metrics-github-secret'
const step = (name: string) => `step//./workflows/demo//${name}`
const workflow = (name: string) => `workflow//./workflows/demo//${name}`

// Ids a label must never hold: runs, deployments (but the heap gauge's), queue messages, keys, deliveries.
const UNBOUNDED = /wrun_|msg_|test-key|gh-delivery|idem-|[0-9a-f]{8}-[0-9a-f]{4}-/

test('metrics scraped after real runs count what happened, with bounded labels only', async (t) => {
  const { app } = await build(t, {
    compute: createInProcessCompute(),
    webhooks: { github: { scheme: 'github', secret: GITHUB_SECRET, trigger: { workflowName: 'greet' } } }
  })
  await deployFixture(app)

  const greet = await triggerRun(app, { workflowName: 'greet', input: ['metrics'] }, 'idem-greet')
  assert.equal(greet.statusCode, 202, greet.body)
  assert.equal((await triggerRun(app, { workflowName: 'greet', input: ['metrics'] }, 'idem-greet')).headers['idempotent-replayed'], 'true')
  assert.equal((await triggerRun(app, { workflowName: 'greet', input: ['other'] }, 'idem-greet')).json().code, 'idempotency_conflict')
  assert.equal((await triggerRun(app, { workflowName: 'noSuchWorkflow' }, 'idem-missing')).statusCode, 404)
  const retried = await triggerRun(app, { workflowName: 'retried', input: [2] }, 'idem-retried')
  const fatal = await triggerRun(app, { workflowName: 'fatal', input: ['on purpose'] }, 'idem-fatal')

  const body = JSON.stringify({ ref: 'refs/heads/main' })
  const hook = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/github',
    payload: body,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': 'gh-delivery-metrics-1',
      'x-hub-signature-256': 'sha256=' + createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')
    }
  })
  assert.equal(hook.statusCode, 202, hook.body)
  const unsigned = await app.inject({ method: 'POST', url: '/v1/webhooks/github', payload: body, headers: { 'content-type': 'application/json' } })
  assert.equal(unsigned.statusCode, 401)

  const runs = await Promise.all([greet.json().runId, retried.json().runId, fatal.json().runId, hook.json().runId]
    .map(async (runId: string) => await waitForRun(app, runId, finished)))
  assert.deepEqual(runs.map((run) => run.status), ['completed', 'completed', 'failed', 'completed'])

  // A run reads as finished once the World stored it; its closing event is counted when the
  // World's events.create returns in this process, a moment later.
  const samples = await until(async () => {
    const scrape = await app.inject({ url: '/metrics', headers: bearer(KEYS.metricsRead) })
    assert.equal(scrape.statusCode, 200)
    const parsed = parsePrometheusText(scrape.body)
    return valueOf(parsed, 'compute_worker_runs_finished_total', {}) === runs.length ? parsed : undefined
  }, 'every finished run counted')
  const count = (name: string, labels: Record<string, string> = {}) => valueOf(samples, name, labels)

  await t.test('triggers by source and outcome', () => {
    assert.equal(count('compute_worker_triggers_total', { source: 'api', outcome: 'created' }), 3)
    assert.equal(count('compute_worker_triggers_total', { source: 'api', outcome: 'replayed' }), 1)
    assert.equal(count('compute_worker_triggers_total', { source: 'api', outcome: 'conflict' }), 1)
    assert.equal(count('compute_worker_triggers_total', { source: 'api', outcome: 'refused' }), 1)
    assert.equal(count('compute_worker_triggers_total', { source: 'webhook', outcome: 'created' }), 1)
  })

  await t.test('runs started and finished by workflow and status', () => {
    assert.equal(count('compute_worker_runs_started_total', { workflow: workflow('greet') }), 2)
    assert.equal(count('compute_worker_runs_started_total'), 4)
    assert.equal(count('compute_worker_runs_finished_total', { workflow: workflow('greet'), status: 'completed' }), 2)
    assert.equal(count('compute_worker_runs_finished_total', { workflow: workflow('retried'), status: 'completed' }), 1)
    assert.equal(count('compute_worker_runs_finished_total', { workflow: workflow('fatal'), status: 'failed' }), 1)
    assert.equal(count('compute_worker_run_duration_seconds_count', { workflow: workflow('fatal'), status: 'failed' }), 1)
  })

  await t.test('step attempts, retries and durations by step', () => {
    assert.equal(count('compute_worker_step_attempts_total', { step: step('flakyStep') }), 3)
    assert.equal(count('compute_worker_step_retries_total', { step: step('flakyStep') }), 2)
    assert.equal(count('compute_worker_steps_finished_total', { step: step('flakyStep'), status: 'completed' }), 1)
    assert.equal(count('compute_worker_steps_finished_total', { step: step('greetStep'), status: 'completed' }), 2)
    assert.equal(count('compute_worker_steps_finished_total', { step: step('failFatallyStep'), status: 'failed' }), 1)
    assert.equal(count('compute_worker_step_duration_seconds_count', { step: step('greetStep'), status: 'completed' }), 2)
  })

  await t.test('queue deliveries by kind and outcome, their delay, and the executor threads', () => {
    assert.ok(count('compute_worker_queue_deliveries_total', { kind: 'workflow', outcome: 'ok' }) >= 4)
    // One step message each; flakyStep's is delivered again after each of its two failures.
    assert.equal(count('compute_worker_queue_deliveries_total', { kind: 'step', outcome: 'ok' }), 4)
    assert.equal(count('compute_worker_queue_deliveries_total', { kind: 'step', outcome: 'rescheduled' }), 2)
    assert.equal(count('compute_worker_queue_delivery_delay_seconds_count', { kind: 'step' }), 4)
    assert.equal(count('compute_worker_executor_thread_starts_total', { reason: 'load' }), 1)
    assert.equal(count('compute_worker_executor_threads', { state: 'answering' }), 1)
    const heap = samples.filter((sample) => sample.name === 'compute_worker_executor_thread_heap_used_bytes')
    assert.equal(heap.length, 1)
    assert.match(heap[0].labels.deployment, /^dpl_/)
    assert.ok(heap[0].value > 1_000_000)
  })

  await t.test('webhook deliveries by provider and outcome', () => {
    assert.equal(count('compute_worker_webhook_deliveries_total', { provider: 'github', outcome: 'accepted' }), 1)
    assert.equal(count('compute_worker_webhook_deliveries_total', { provider: 'github', outcome: 'refused' }), 1)
  })

  await t.test('World calls and control-plane statements are timed', () => {
    assert.ok(count('compute_worker_world_call_duration_seconds_count', { method: 'events.create', outcome: 'ok' }) > 10)
    assert.ok(count('compute_worker_store_operation_duration_seconds_count', { operation: 'apiKeys.findLiveByHash' }) > 0)
  })

  await t.test('no label holds an id', () => {
    const offending = samples.filter((sample: Sample) => sample.name !== 'compute_worker_executor_thread_heap_used_bytes' &&
      Object.values(sample.labels).some((value) => UNBOUNDED.test(value) || /^dpl_/.test(value)))
    assert.deepEqual(offending, [])
  })
})
