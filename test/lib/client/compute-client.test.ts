import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import {
  AuthComputeClientError,
  ComputeClient,
  ComputeClientError,
  ConflictComputeClientError,
  IdempotencyComputeClientError,
  NoActiveDeploymentComputeClientError,
  NotFoundComputeClientError,
  RateLimitComputeClientError,
  ServerComputeClientError,
  ValidationComputeClientError
} from '../../../lib/client/index.js'
import { computeClientErrorFor } from '../../../lib/client/errors.js'
import type { ComputeWorkerOptions } from '../../../lib/options.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { KEYS, SEED_KEYS, tempDir } from '../../helper.js'

async function startWorker (t: TestContext, overrides: Partial<ComputeWorkerOptions> = {}) {
  const dir = await tempDir(t)
  const worker = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0, ...overrides
  })
  t.after(() => worker.close())
  return worker
}

/** Real fetch, recording each attempt; `failFirst` turns the first attempt into a network failure. */
function recordingFetch (failFirst?: 'network' | 503) {
  const attempts: Array<{ url: string, method: string, headers: Headers }> = []
  const fetchImpl: typeof fetch = async (input, init) => {
    attempts.push({ url: String(input), method: init?.method ?? 'GET', headers: new Headers(init?.headers) })
    if (attempts.length === 1 && failFirst === 'network') throw new TypeError('fetch failed')
    if (attempts.length === 1 && failFirst === 503) {
      return new Response(JSON.stringify({ code: 'not_ready', message: 'starting', correlationId: 'x' }), { status: 503, headers: { 'content-type': 'application/json' } })
    }
    return await fetch(input, init)
  }
  return { fetchImpl, attempts }
}

test('errors map by status and code to the contract\'s classes, all ComputeClientErrors', () => {
  const cases: Array<[number, string, new (...args: any[]) => ComputeClientError]> = [
    [400, 'validation_error', ValidationComputeClientError],
    [400, 'idempotency_key_required', ValidationComputeClientError],
    [413, 'payload_too_large', ValidationComputeClientError],
    [401, 'unauthorized', AuthComputeClientError],
    [403, 'forbidden', AuthComputeClientError],
    [403, 'https_required', AuthComputeClientError],
    [404, 'run_not_found', NotFoundComputeClientError],
    [404, 'no_active_deployment', NoActiveDeploymentComputeClientError],
    [409, 'idempotency_conflict', IdempotencyComputeClientError],
    [409, 'idempotency_in_progress', IdempotencyComputeClientError],
    [409, 'no_active_deployment', NoActiveDeploymentComputeClientError],
    [409, 'run_already_finished', ConflictComputeClientError],
    [429, 'rate_limited', RateLimitComputeClientError],
    [500, 'internal_error', ServerComputeClientError],
    [503, 'not_ready', ServerComputeClientError],
    [0, 'network_error', ServerComputeClientError]
  ]
  for (const [status, code, errorClass] of cases) {
    const error = computeClientErrorFor('m', { status, code, correlationId: 'corr', retryAfter: 7 })
    assert.ok(error instanceof errorClass, `${status} ${code} → ${errorClass.name}`)
    assert.ok(error instanceof ComputeClientError)
    assert.deepEqual([error.name, error.status, error.code, error.correlationId], [errorClass.name, status, code, 'corr'])
  }
  assert.equal((computeClientErrorFor('m', { status: 429, code: 'rate_limited', retryAfter: 7 }) as RateLimitComputeClientError).retryAfter, 7)
})

test('health, and a worker error with the caller\'s correlation id', async (t) => {
  const worker = await startWorker(t)
  const client = new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.admin })
  const health = await client.health()
  assert.equal(health.status, 'ok')
  assert.equal(health.database, 'ok')

  const missing = await client.getDeployment('dpl_missing', { correlationId: 'corr-client-1' }).catch((error) => error)
  assert.ok(missing instanceof NotFoundComputeClientError)
  assert.deepEqual([missing.status, missing.correlationId], [404, 'corr-client-1'])
})

test('a trigger is retried after a network failure with the same Idempotency-Key and correlation id', async (t) => {
  const worker = await startWorker(t)
  const { fetchImpl, attempts } = recordingFetch('network')
  const client = new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.triggerWrite, fetch: fetchImpl, retryDelayMs: 1 })
  await client.triggerRun({ workflowName: 'greet', input: ['x'] }, { correlationId: 'corr-trigger' }).catch(() => {})
  assert.equal(attempts.length, 2)
  const [first, second] = attempts
  assert.ok(first.headers.get('idempotency-key'))
  assert.equal(second.headers.get('idempotency-key'), first.headers.get('idempotency-key'))
  assert.deepEqual([first.headers.get('x-workflow-correlation-id'), second.headers.get('x-workflow-correlation-id')], ['corr-trigger', 'corr-trigger'])

  const chosen = recordingFetch('network')
  await new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.triggerWrite, fetch: chosen.fetchImpl, retryDelayMs: 1 })
    .triggerRun({ workflowName: 'greet' }, { idempotencyKey: 'order-17' }).catch(() => {})
  assert.deepEqual(chosen.attempts.map((attempt) => attempt.headers.get('idempotency-key')), ['order-17', 'order-17'])
})

test('reads are retried after a 503 or a network failure; resume and cancel are not (their fate is unknown)', async (t) => {
  const worker = await startWorker(t)
  const read = recordingFetch(503)
  const health = await new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.deployRead, fetch: read.fetchImpl, retryDelayMs: 1 })
    .getDeployment('dpl_missing').catch((error) => error)
  assert.equal(read.attempts.length, 2)
  assert.ok(health instanceof NotFoundComputeClientError, 'the second attempt reached the worker')

  for (const call of [
    (client: ComputeClient) => client.resumeHook('approval:1', { ok: true }),
    (client: ComputeClient) => client.cancelRun('wrun_x'),
    (client: ComputeClient) => client.createDeployment({ manifest: {} })
  ]) {
    const unsafe = recordingFetch('network')
    const error = await call(new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.admin, fetch: unsafe.fetchImpl, retryDelayMs: 1 })).catch((caught) => caught)
    assert.equal(unsafe.attempts.length, 1)
    assert.ok(error instanceof ServerComputeClientError)
    assert.deepEqual([error.status, error.code], [0, 'network_error'])
  }

  const down = new ComputeClient({ baseUrl: 'http://127.0.0.1:9', apiKey: KEYS.admin, retries: 2, retryDelayMs: 1 })
  const unreachable = await down.getActiveDeployment().catch((error) => error)
  assert.ok(unreachable instanceof ServerComputeClientError)
})

test('429 is retried (the worker refused before doing anything), then surfaces with retryAfter', async (t) => {
  const worker = await startWorker(t, { rateLimitPerMinute: 1 })
  const { fetchImpl, attempts } = recordingFetch()
  const client = new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.runsWrite, fetch: fetchImpl, retries: 2, retryDelayMs: 1, maxRetryDelayMs: 5 })
  await client.cancelRun('wrun_a').catch(() => {})
  const throttled = await client.cancelRun('wrun_b').catch((error) => error)
  assert.ok(throttled instanceof RateLimitComputeClientError)
  assert.ok((throttled.retryAfter ?? 0) > 0)
  assert.equal(attempts.length, 1 + 3, 'one call, then the throttled one with its two retries')
})
