import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createNodeComputeWorkerServer, startNodeComputeWorkerServer } from '../../server.js'
import { KEYS, bearer, testOptions } from '../helper.js'

test('createNodeComputeWorkerServer returns an http.Server serving the worker once listening', async (t) => {
  const { options } = await testOptions(t)
  const server = createNodeComputeWorkerServer(options)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  const res = await fetch(`http://127.0.0.1:${port}/v1/health`)
  assert.equal(res.status, 200)
  assert.equal((await res.json()).world.status, 'ok')
  const unauthorized = await fetch(`http://127.0.0.1:${port}/v1/anything`, { headers: bearer('test-key-unknown-000000000000000001') })
  assert.equal(unauthorized.status, 404)
})

test('closing the Node server releases the World and SQLite', async (t) => {
  const { options } = await testOptions(t)
  let worldClosed = false
  const world = options.world
  const close = world.close?.bind(world)
  world.close = async () => { worldClosed = true; await close?.() }
  const server = createNodeComputeWorkerServer(options)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  await new Promise<void>((resolve, reject) => server.close((error) => error ? reject(error) : resolve()))
  assert.equal(worldClosed, true)
  assert.equal(server.listening, false)
})

test('startNodeComputeWorkerServer resolves { server, url, close } on port 0', async (t) => {
  const { options } = await testOptions(t)
  const started = await startNodeComputeWorkerServer({ ...options, port: 0 })
  t.after(() => started.close())
  assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(started.server.listening, true)
  const res = await fetch(`${started.url}/v1/health`, { headers: bearer(KEYS.admin) })
  assert.equal(res.status, 200)
  await started.close()
  assert.equal(started.server.listening, false)
})

test('startNodeComputeWorkerServer rejects when the port is taken, and releases what it opened', async (t) => {
  const { options } = await testOptions(t)
  const first = await startNodeComputeWorkerServer({ ...options, port: 0 })
  t.after(() => first.close())
  const port = Number(new URL(first.url).port)
  const second = await testOptions(t)
  await assert.rejects(startNodeComputeWorkerServer({ ...second.options, port }), /EADDRINUSE/)
})
