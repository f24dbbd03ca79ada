import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KEYS, bearer, build } from '../helper.js'
import { parsePrometheusText, valueOf } from '../prometheus-text.js'

test('GET /metrics needs a key with metrics:read: 401 without one, 403 with another scope', async (t) => {
  const { app } = await build(t)
  const none = await app.inject({ url: '/metrics' })
  assert.equal(none.statusCode, 401)
  assert.equal(none.json().code, 'unauthorized')
  assert.match(String(none.headers['www-authenticate']), /^Bearer/)
  for (const key of [KEYS.runsRead, KEYS.worldProxy, KEYS.none]) {
    const refused = await app.inject({ url: '/metrics', headers: bearer(key) })
    assert.equal(refused.statusCode, 403)
    assert.equal(refused.json().code, 'forbidden')
    assert.equal(refused.json().requiredScope, 'metrics:read')
    assert.equal(refused.json().correlationId, refused.headers['x-workflow-correlation-id'])
  }
  const scraped = await app.inject({ url: '/metrics', headers: bearer(KEYS.metricsRead) })
  assert.equal(scraped.statusCode, 200)
  assert.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  const samples = parsePrometheusText(scraped.body)
  // Present, not necessarily above 0: the kernel counts CPU time in ticks, and a scrape soon after start may see none.
  assert.ok(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'), 'the process metrics are there')
  assert.ok(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds'))
  assert.equal(valueOf(samples, 'compute_worker_info'), 1)
})

test('GET /metrics is outside the rate limit', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 2 })
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ url: '/metrics', headers: bearer(KEYS.metricsRead) })
    assert.equal(res.statusCode, 200, `scrape ${i + 1}`)
    assert.equal(res.headers['x-ratelimit-limit'], undefined)
  }
})

// The labels themselves (route templates, unmatched, trigger outcomes): test/plugins/metrics.test.ts.
test('a request the rate limit refuses is counted under its route template, never its URL', async (t) => {
  const { app } = await build(t, { rateLimitPerMinute: 3 })
  // The fourth request of one key in the minute is refused.
  for (let i = 0; i < 4; i++) await app.inject({ url: '/v1/runs/wrun_01ARZ3NDEKTSV4RRFFQ69G5FAV', headers: bearer(KEYS.admin) })
  const text = (await app.inject({ url: '/metrics', headers: bearer(KEYS.metricsRead) })).body
  const samples = parsePrometheusText(text)
  const http = 'compute_worker_http_request_duration_seconds_count'
  assert.equal(valueOf(samples, http, { route: '/v1/runs/:id', method: 'GET', status_code: '404' }), 3)
  assert.equal(valueOf(samples, http, { route: '/v1/runs/:id', status_code: '429' }), 1)
  assert.equal(valueOf(samples, 'compute_worker_rate_limit_refusals_total', { route: '/v1/runs/:id' }), 1)
  assert.doesNotMatch(text, /wrun_/)
})

test('metrics: false collects nothing and serves no /metrics (404)', async (t) => {
  const { app } = await build(t, { metrics: false })
  assert.equal(app.metrics, undefined)
  const res = await app.inject({ url: '/metrics', headers: bearer(KEYS.metricsRead) })
  assert.equal(res.statusCode, 404)
  assert.equal(res.json().code, 'not_found')
})
