import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import type { FastifyServerOptions } from 'fastify'
import { connect as tlsConnect } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildComputeWorkerApp, createNodeComputeWorkerServer, startNodeComputeWorkerServer } from '../../server.js'
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

test('a request that arrives while the app closes gets 503 not_ready in the contract shape, with its correlation id', async (t) => {
  const { options } = await testOptions(t)
  const app = buildComputeWorkerApp(options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const socket = connect(port, '127.0.0.1')
  t.after(() => { socket.destroy() })
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (chunk: Buffer) => { received += chunk.toString() })
  // A request still sending its body keeps the connection busy while the close begins...
  socket.write(`POST /v1/runs/resume HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEYS.runsWrite}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{`)
  await sleep(100)
  const closing = app.close()
  await sleep(100)
  // ...and the next one on that connection arrives during it.
  socket.write('}GET /v1/health HTTP/1.1\r\nhost: x\r\nx-workflow-correlation-id: corr-late\r\n\r\n')
  await once(socket, 'close')
  await closing
  const [, late] = received.split(/(?=HTTP\/1\.1 )/)
  assert.match(late, /^HTTP\/1\.1 503 /)
  assert.match(late, /\r\nx-workflow-correlation-id: corr-late\r\n/i)
  assert.match(late, /\r\nconnection: close\r\n/i)
  const body = JSON.parse(late.slice(late.indexOf('\r\n\r\n') + 4))
  assert.deepEqual(body, { code: 'not_ready', message: body.message, correlationId: 'corr-late' })
})

// A throwaway self-signed certificate for 127.0.0.1, made for this test.
const TLS_DIR = join(import.meta.dirname, '..', 'fixtures', 'tls')

for (const transport of ['HTTP', 'HTTPS'] as const) {
  test(`the close finishes a request in flight, then closes its keep-alive connection and one that never sent a request (${transport})`, { timeout: 60_000 }, async (t) => {
    const { options } = await testOptions(t)
    const app = buildComputeWorkerApp(options, transport === 'HTTPS'
      ? { https: { key: await readFile(join(TLS_DIR, 'key.pem')), cert: await readFile(join(TLS_DIR, 'cert.pem')) } } as Partial<FastifyServerOptions>
      : {})
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const open = async (): Promise<Socket> => {
      const socket = transport === 'HTTPS' ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1')
      await once(socket, transport === 'HTTPS' ? 'secureConnect' : 'connect')
      return socket
    }
    // A client's spare connection: connected, no request. Node's own idle sweep leaves it open.
    const spare = await open()
    // A request whose body is still arriving when the close begins.
    const busy = await open()
    const arrived = once(app.server, 'request')
    busy.write(`POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.triggerWrite}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{`)
    let answer = ''
    busy.on('data', (chunk: Buffer) => { answer += chunk.toString() })
    await arrived

    // Closed by the server, cleanly or with a reset: either way the connection is gone.
    const [spareClosed, busyClosed] = [spare, busy].map(async (socket) => await new Promise((resolve) => socket.on('error', () => {}).once('close', resolve)))
    const closed = app.close()
    while (app.server.listening) await sleep(5)
    busy.write('}')
    await Promise.all([closed, spareClosed, busyClosed])
    assert.match(answer, /^HTTP\/1\.1 \d{3} /, 'the request in flight was answered before its connection closed')
  })
}
