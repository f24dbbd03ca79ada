import assert from 'node:assert/strict'
import { test } from 'node:test'
import rateLimit from '@fastify/rate-limit'
import Fastify from 'fastify'
import { computeWorkerPlugin } from '../../app.js'
import { dropQueueDeliveries } from '../fixture-executor.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, bearer, testOptions } from '../helper.js'

test('registered into a host app under a prefix, the worker serves its routes and leaves the host alone', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  host.setErrorHandler((error: Error, _request, reply) => { reply.code(418).send({ host: true, message: error.message }) })
  host.get('/', async () => ({ host: 'root' }))
  host.get('/fails', async () => { throw new Error('host failure') })
  await host.register(computeWorkerPlugin, { ...options, prefix: '/compute' })
  await host.ready()

  const health = await host.inject({ url: '/compute/v1/health' })
  assert.equal(health.statusCode, 200)
  assert.equal(health.json().world.status, 'ok')
  assert.ok(health.headers['x-workflow-correlation-id'])
  const doubled = await host.inject({ url: '/compute/compute/v1/health' })
  assert.equal(doubled.statusCode, 404)

  assert.deepEqual((await host.inject({ url: '/' })).json(), { host: 'root' })
  const hostError = await host.inject({ url: '/fails' })
  assert.equal(hostError.statusCode, 418, 'the host keeps its error handler')
  assert.equal(hostError.headers['x-workflow-correlation-id'], undefined, 'worker hooks stay inside the plugin')

  const workerMissing = await host.inject({ url: '/compute/v1/none' })
  assert.equal(workerMissing.statusCode, 404)
  assert.equal(workerMissing.json().code, 'not_found')
  assert.equal(workerMissing.json().correlationId, workerMissing.headers['x-workflow-correlation-id'])
})

test('registered without a prefix next to host routes', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  host.get('/app/status', async () => ({ ok: true }))
  host.post('/app/echo', async (request) => ({ body: request.body }))
  await host.register(computeWorkerPlugin, options)
  await host.ready()
  assert.equal((await host.inject({ url: '/v1/health' })).statusCode, 200)
  assert.deepEqual((await host.inject({ url: '/app/status' })).json(), { ok: true })
  assert.equal((await host.inject({ url: '/app/status' })).headers['x-workflow-correlation-id'], undefined)

  const plain = { 'content-type': 'text/plain' }
  const echoed = await host.inject({ method: 'POST', url: '/app/echo', headers: plain, payload: 'hello' })
  assert.deepEqual(echoed.json(), { body: 'hello' }, 'the host keeps Fastify\'s text/plain parser')
  const refused = await host.inject({ method: 'POST', url: '/v1/runs', headers: { ...plain, ...bearer(KEYS.triggerWrite), 'idempotency-key': 'p' }, payload: '{}' })
  assert.deepEqual([refused.statusCode, refused.json().code], [415, 'unsupported_media_type'], 'the worker\'s JSON routes do not take it')
})

test('a host that set its own root 404 handler keeps it when the worker mounts without a prefix', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  host.setNotFoundHandler((_request, reply) => { reply.code(404).send({ host404: true }) })
  await host.register(computeWorkerPlugin, options)
  await host.ready()
  assert.deepEqual((await host.inject({ url: '/missing' })).json(), { host404: true })
  assert.equal((await host.inject({ url: '/v1/health' })).statusCode, 200)
})

test('through a host app with its own routes, error handler and body parsing: trigger, rate limit, host errors', async (t) => {
  const { options } = await testOptions(t, { rateLimitPerMinute: 3 })
  dropQueueDeliveries(options.world)
  const host = Fastify()
  t.after(() => host.close())
  host.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    reply.code(418).send({ host: true, status: error.statusCode ?? 500, message: error.message })
  })
  host.post('/echo', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
    async (request) => ({ echoed: request.body }))
  host.get('/fails', async () => { throw new Error('host failure') })
  await host.register(computeWorkerPlugin, { ...options, prefix: '/compute' })
  await host.ready()

  const { manifest } = await buildFixtureApp('A')
  const deployed = await host.inject({ method: 'POST', url: '/compute/v1/deployments', headers: bearer(KEYS.deployWrite), payload: { manifest } })
  assert.equal(deployed.statusCode, 201, deployed.body)
  const activated = await host.inject({ method: 'POST', url: `/compute/v1/deployments/${deployed.json().id}/activate`, headers: bearer(KEYS.deployWrite) })
  assert.equal(activated.statusCode, 200, activated.body)

  const unauthenticated = await host.inject({ method: 'POST', url: '/compute/v1/runs', headers: { 'idempotency-key': 'plugin-1' }, payload: { workflowName: 'greet' } })
  assert.equal(unauthenticated.statusCode, 401)
  assert.equal(unauthenticated.json().code, 'unauthorized')
  const trigger = await host.inject({ method: 'POST', url: '/compute/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'plugin-1' }, payload: { workflowName: 'greet', input: ['host'] } })
  assert.equal(trigger.statusCode, 202, trigger.body)
  const run = await options.world.runs.get(trigger.json().runId)
  assert.equal(run.workflowName, 'workflow//./workflows/demo//greet')
  assert.equal(run.deploymentId, deployed.json().id)

  // The worker's limit, per key: three requests a minute.
  for (let i = 0; i < 3; i++) {
    assert.equal((await host.inject({ url: '/compute/v1/runs', headers: bearer(KEYS.runsRead) })).statusCode, 200)
  }
  const limited = await host.inject({ url: '/compute/v1/runs', headers: bearer(KEYS.runsRead) })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(Number(limited.headers['retry-after']) > 0)

  // The host's routes: not limited by the worker, parsed and failed the host's way.
  for (let i = 0; i < 5; i++) {
    const echoed = await host.inject({ method: 'POST', url: '/echo', payload: { name: 'ada' } })
    assert.equal(echoed.statusCode, 200)
    assert.deepEqual(echoed.json(), { echoed: { name: 'ada' } })
    assert.equal(echoed.headers['x-ratelimit-limit'], undefined)
  }
  const malformed = await host.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' })
  assert.equal(malformed.statusCode, 418)
  assert.deepEqual([malformed.json().host, malformed.json().status], [true, 400])
  const invalid = await host.inject({ method: 'POST', url: '/echo', payload: { other: 1 } })
  assert.equal(invalid.statusCode, 418)
  assert.equal(invalid.json().status, 400)
  const failed = await host.inject({ url: '/fails' })
  assert.deepEqual(failed.json(), { host: true, status: 500, message: 'host failure' })
  assert.equal(failed.headers['x-workflow-correlation-id'], undefined)
})

test('a host that registered @fastify/rate-limit itself: worker routes keep the per-key limit, host routes the host\'s', async (t) => {
  const { options } = await testOptions(t, { rateLimitPerMinute: 3 })
  const host = Fastify()
  t.after(() => host.close())
  // The plugin's defaults: global, here two requests a minute per IP.
  await host.register(rateLimit, { max: 2, timeWindow: 60_000 })
  host.get('/host', async () => ({ ok: true }))
  await host.register(computeWorkerPlugin, options)
  await host.ready()

  for (let i = 0; i < 3; i++) {
    const res = await host.inject({ url: '/v1/runs', headers: bearer(KEYS.runsRead) })
    assert.equal(res.statusCode, 200, `request ${i + 1}: ${res.body}`)
    assert.equal(res.headers['x-ratelimit-limit'], '3')
  }
  const limited = await host.inject({ url: '/v1/runs', headers: bearer(KEYS.runsRead) })
  assert.equal(limited.statusCode, 429)
  assert.equal(limited.json().code, 'rate_limited')
  assert.ok(Number(limited.headers['retry-after']) > 0)
  // Another key has its own budget.
  assert.equal((await host.inject({ url: '/v1/runs', headers: bearer(KEYS.admin) })).statusCode, 200)
  // Health stays exempt from both limits.
  for (let i = 0; i < 4; i++) assert.equal((await host.inject({ url: '/v1/health' })).statusCode, 200)

  assert.equal((await host.inject({ url: '/host' })).statusCode, 200)
  assert.equal((await host.inject({ url: '/host' })).statusCode, 200)
  assert.equal((await host.inject({ url: '/host' })).statusCode, 429)
})
