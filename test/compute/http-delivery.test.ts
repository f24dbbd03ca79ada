import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { withHealthCheck } from '@workflow/core/runtime/helpers'
import { createLocalWorld } from '@workflow/world-local'
import type { World } from '@workflow/world'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { startNodeComputeWorkerServer } from '../../server.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { SEED_KEYS, build, tempDir } from '../helper.js'
import { deployBuild, runOutput, startRun, workflowId } from './helper.js'

const FLOW = '/.well-known/workflow/v1/flow'
const SECRET = 'delivery-secret-0123456789abcdef'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A health-check message as the queue delivers it (world-local's format). */
function healthCheckDelivery (headers: Record<string, string> = {}): { headers: Record<string, string>, body: string } {
  return {
    headers: {
      'content-type': 'application/json',
      'x-vqs-queue-name': '__wkf_workflow_health_check',
      'x-vqs-message-id': 'msg_01J00000000000000000000002',
      'x-vqs-message-attempt': '1',
      ...headers
    },
    body: JSON.stringify({ __healthCheck: true, correlationId: 'probe-1' })
  }
}

test('a World that delivers over HTTP (as world-postgres does) runs through the internal routes', async (t) => {
  const a = await buildFixtureApp('A')
  const dir = await tempDir(t)
  const port = await freePort()
  // world-local without registerHandler delivers over HTTP to its base URL: this very server.
  const { registerHandler: _inProcessDelivery, ...world } = createLocalWorld({ dataDir: join(dir, 'world'), baseUrl: `http://127.0.0.1:${port}` })
  const worker = await startNodeComputeWorkerServer({
    world: world as World,
    compute: createInProcessCompute(),
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: SEED_KEYS,
    port,
    host: '127.0.0.1'
  })
  t.after(() => worker.close())
  await deployBuild(join(dir, 'artifacts'), 'dpl_a', a)

  const runId = await startRun(world as World, 'dpl_a', workflowId(a, 'sum'), [5, 6])
  assert.deepEqual(await runOutput(world as World, runId), { total: 11, variant: 'A' })

  // The SDK finds its executor's port by probing this endpoint.
  const probe = await fetch(`${worker.url}${FLOW}?__health`, { method: 'HEAD' })
  assert.equal(probe.status, 200)
  const health = await (await fetch(`${worker.url}${FLOW}?__health`)).json()
  assert.equal(health.healthy, true)

  // Relayed by a proxy on this machine: no longer taken as the World's own loopback delivery.
  const delivery = healthCheckDelivery({ 'x-forwarded-for': '203.0.113.9' })
  const relayed = await fetch(`${worker.url}${FLOW}`, { method: 'POST', ...delivery })
  assert.equal(relayed.status, 403)
  assert.equal((await relayed.json()).code, 'forbidden')

  // A body that is no queue message, from loopback: refused at once, not retried as a 500.
  for (const body of ['{not json', '{"runId": 5}', '[]']) {
    const malformed = await fetch(`${worker.url}${FLOW}`, { method: 'POST', headers: healthCheckDelivery().headers, body })
    assert.equal(malformed.status, 400, body)
    const error = await malformed.json()
    assert.equal(error.code, 'validation_error')
    assert.equal(error.correlationId, malformed.headers.get('x-workflow-correlation-id'))
  }
})

test('`?__health` is answered as the SDK\'s own handlers answer it, for any method and any caller', async (t) => {
  const { app } = await build(t, { compute: createInProcessCompute({ deliverySecret: SECRET }) })
  // The SDK's handler (@workflow/core withHealthCheck) on the same URL, as an app of its own serves it.
  const sdk = withHealthCheck(async () => new Response('not a health probe', { status: 418 }), 3)
  for (const endpoint of ['flow', 'step']) {
    for (const method of ['POST', 'GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      const url = `/.well-known/workflow/v1/${endpoint}?__health`
      const expected = await sdk(new Request(`http://localhost${url}`, { method }))
      // Injected: neither loopback nor holding the secret, and without a body (POST included).
      const actual = await app.inject({ method: method as 'GET', url })
      assert.equal(actual.statusCode, expected.status, `${method} ${endpoint}`)
      assert.equal(actual.body, await expected.text(), `${method} ${endpoint}`)
      for (const [name, value] of expected.headers) assert.equal(actual.headers[name], value, `${method} ${endpoint}: ${name}`)
      assert.ok(actual.headers['x-workflow-correlation-id'])
    }
  }
  // Without ?__health the route is a queue delivery again: the guard applies.
  assert.equal((await app.inject({ method: 'POST', url: FLOW })).statusCode, 403)
})

test('the delivery routes refuse callers that are not loopback unless they hold the delivery secret', async (t) => {
  const { app } = await build(t, { compute: createInProcessCompute({ deliverySecret: SECRET }) })
  const delivery = healthCheckDelivery()

  // inject is what the fetch front uses for any caller: never taken as loopback.
  const anonymous = await app.inject({ method: 'POST', url: FLOW, headers: delivery.headers, payload: delivery.body })
  assert.equal(anonymous.statusCode, 403)
  assert.equal(anonymous.json().code, 'forbidden')
  const wrong = await app.inject({ method: 'POST', url: FLOW, headers: { ...delivery.headers, 'x-workflow-delivery-secret': 'nope' }, payload: delivery.body })
  assert.equal(wrong.statusCode, 403)
  const wrongBearer = await app.inject({ method: 'POST', url: FLOW, headers: { ...delivery.headers, authorization: 'Bearer nope' }, payload: delivery.body })
  assert.equal(wrongBearer.statusCode, 403)
  // The form the worker's own World sends (withDeliverySecret), e.g. world-postgres delivering over HTTP.
  const bearer = await app.inject({ method: 'POST', url: FLOW, headers: { ...delivery.headers, authorization: `Bearer ${SECRET}` }, payload: delivery.body })
  assert.equal(bearer.statusCode, 200)

  const accepted = await app.inject({ method: 'POST', url: FLOW, headers: { ...delivery.headers, 'x-workflow-delivery-secret': SECRET }, payload: delivery.body })
  assert.equal(accepted.statusCode, 200)
  assert.deepEqual(accepted.json(), { ok: true })
  // The health check was answered on its stream, as the SDK's own handler does.
  const reader = (await app.workflowWorld.readFromStream('__health_check__probe-1')).getReader()
  const first = await reader.read()
  await reader.cancel()
  assert.equal(JSON.parse(Buffer.from(first.value!).toString()).healthy, true)

  const malformed = await app.inject({ method: 'POST', url: FLOW, headers: { 'x-workflow-delivery-secret': SECRET, 'content-type': 'application/json' }, payload: '{}' })
  assert.equal(malformed.statusCode, 400)
  // Signed and well addressed, but a body the SDK's handler cannot read: 400, not a 500 the queue retries.
  for (const [endpoint, payload] of [['flow', '{"runId": '], ['step', '{"runId": "wrun_1"}'], ['flow', JSON.stringify({ __healthCheck: true })]]) {
    const unreadable = await app.inject({ method: 'POST', url: `/.well-known/workflow/v1/${endpoint}`, headers: { ...delivery.headers, 'x-workflow-delivery-secret': SECRET }, payload })
    assert.equal(unreadable.statusCode, 400, payload)
    assert.equal(unreadable.json().code, 'validation_error')
    assert.equal(unreadable.json().correlationId, unreadable.headers['x-workflow-correlation-id'])
  }
  const unknownEndpoint = await app.inject({ method: 'POST', url: '/.well-known/workflow/v1/nope', headers: { 'x-workflow-delivery-secret': SECRET }, payload: '{}' })
  assert.equal(unknownEndpoint.statusCode, 400)
  assert.equal(unknownEndpoint.json().code, 'validation_error')
  // A queue message is at most 16 MiB, as the internal lane's publish takes.
  const oversized = await app.inject({ method: 'POST', url: FLOW, headers: { ...delivery.headers, 'x-workflow-delivery-secret': SECRET }, payload: Buffer.alloc(16 * 1024 * 1024 + 1, 0x20) })
  assert.equal(oversized.statusCode, 413)
  assert.equal(oversized.json().code, 'payload_too_large')
})

test('without an executor (compute: none) the workflow routes do not exist', async (t) => {
  const { app } = await build(t)
  const delivery = healthCheckDelivery()
  assert.equal((await app.inject({ method: 'POST', url: FLOW, headers: delivery.headers, payload: delivery.body })).statusCode, 404)
  assert.equal((await app.inject({ method: 'POST', url: '/.well-known/workflow/v1/webhook/abc', payload: '{}' })).statusCode, 404)
})
