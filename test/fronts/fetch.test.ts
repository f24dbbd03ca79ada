import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createComputeWorker, createFetchHandler } from '../../fetch.js'
import { buildComputeWorkerApp } from '../../server.js'
import { KEYS, bearer, testOptions } from '../helper.js'

function probeRoutes (app: FastifyInstance): void {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
  app.post('/probe/echo-bytes', async (request, reply) => {
    reply.header('x-received-bytes', String((request.body as Buffer).length))
    reply.header('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
    return reply.type('application/octet-stream').send(request.body)
  })
  app.get('/probe/stream', async (_request, reply) => {
    let n = 0
    const stream = new Readable({
      read () {
        n += 1
        setTimeout(() => this.push(n <= 3 ? `chunk-${n}\n` : null), 20)
      }
    })
    return reply.type('text/plain').send(stream)
  })
  app.get('/probe/headers', async (request) => ({ custom: request.headers['x-custom'], protocol: request.headers['x-compute-worker-fetch-protocol'] }))
}

test('the fetch handler serves the worker: health, auth, 404, against a real world-local', async (t) => {
  const { options } = await testOptions(t)
  const handler = createComputeWorker(options)
  t.after(() => handler.close())
  const health = await handler(new Request('http://worker.test/v1/health'))
  assert.equal(health.status, 200)
  assert.equal((await health.json()).world.status, 'ok')
  assert.ok(health.headers.get('x-workflow-correlation-id'))

  const missing = await handler(new Request('http://worker.test/v1/none', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'x-workflow-correlation-id': 'fetch-404' } }))
  assert.equal(missing.status, 404)
  assert.deepEqual(await missing.json(), { code: 'not_found', message: 'Route POST /v1/none not found', correlationId: 'fetch-404' })
})

test('binary bodies round-trip byte for byte; repeated headers stay separate', async (t) => {
  const { options } = await testOptions(t)
  const app = buildComputeWorkerApp(options)
  probeRoutes(app)
  const handler = createFetchHandler(app)
  t.after(() => handler.close())
  const bytes = new Uint8Array(256 * 1024)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256
  const res = await handler(new Request('http://worker.test/probe/echo-bytes', {
    method: 'POST', body: bytes, headers: { ...bearer(KEYS.admin), 'content-type': 'application/octet-stream' }
  }))
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-received-bytes'), String(bytes.length))
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes)
  assert.deepEqual(res.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'])
})

test('streamed responses arrive as a stream, chunk by chunk', async (t) => {
  const { options } = await testOptions(t)
  const app = buildComputeWorkerApp(options)
  probeRoutes(app)
  const handler = createFetchHandler(app)
  t.after(() => handler.close())
  const res = await handler(new Request('http://worker.test/probe/stream', { headers: bearer(KEYS.admin) }))
  assert.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const first = await reader.read()
  assert.equal(new TextDecoder().decode(first.value), 'chunk-1\n')
  let rest = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    rest += new TextDecoder().decode(value)
  }
  assert.equal(rest, 'chunk-2\nchunk-3\n')
})

test('request headers pass through; the protocol header is the front\'s own, never the caller\'s', async (t) => {
  const { options } = await testOptions(t, { requireHttps: true })
  const app = buildComputeWorkerApp(options)
  probeRoutes(app)
  const handler = createFetchHandler(app)
  t.after(() => handler.close())
  const overHttps = await handler(new Request('https://worker.test/probe/headers', { headers: { ...bearer(KEYS.admin), 'x-custom': 'yes' } }))
  assert.equal(overHttps.status, 200)
  assert.deepEqual(await overHttps.json(), { custom: 'yes', protocol: 'https' })
  const forged = await handler(new Request('http://worker.test/probe/headers', { headers: { ...bearer(KEYS.admin), 'x-compute-worker-fetch-protocol': 'https' } }))
  assert.equal(forged.status, 403)
  assert.equal((await forged.json()).code, 'https_required')
})

test('a start-up failure surfaces on every call and from ready()', async (t) => {
  const { options, dir } = await testOptions(t)
  // world-local cannot create its data directory inside a file.
  const { writeFile } = await import('node:fs/promises')
  await writeFile(`${dir}/blocker`, 'x')
  const { createLocalWorld } = await import('@workflow/world-local')
  const handler = createComputeWorker({ ...options, world: createLocalWorld({ dataDir: `${dir}/blocker/world` }) })
  t.after(() => handler.close().catch(() => {}))
  await assert.rejects(handler.ready())
  await assert.rejects(handler(new Request('http://worker.test/v1/health')))
})
