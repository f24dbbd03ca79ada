import assert from 'node:assert/strict'
import { test } from 'node:test'
import sensible from '@fastify/sensible'
import Fastify from 'fastify'
import { computeWorkerPlugin } from '../../app.js'
import { testOptions } from '../helper.js'

test('registered into a host app under a prefix, the worker serves its routes and leaves the host alone', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  await host.register(sensible)
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
  await host.register(computeWorkerPlugin, options)
  await host.ready()
  assert.equal((await host.inject({ url: '/v1/health' })).statusCode, 200)
  assert.deepEqual((await host.inject({ url: '/app/status' })).json(), { ok: true })
  assert.equal((await host.inject({ url: '/app/status' })).headers['x-workflow-correlation-id'], undefined)
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
