import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { test, type TestContext } from 'node:test'
import Fastify from 'fastify'
import { createComputeWorker } from '../fetch.js'
import { computeWorkerPlugin, computeWorkerServerOptions } from '../index.js'
import { startNodeComputeWorkerServer } from '../server.js'
import { KEYS, bearer, testOptions } from './helper.js'

const CORRELATION = 'x-workflow-correlation-id'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Sends bytes on a fresh connection and resolves with everything the server wrote before closing it. */
async function rawExchange (url: string, request: string): Promise<{ status: number, headers: Record<string, string>, body: string }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await once(socket, 'connect')
  let text = ''
  socket.on('data', (chunk) => { text += chunk.toString('latin1') })
  socket.on('error', () => {}) // the server resets once it has answered
  socket.write(request)
  await Promise.race([once(socket, 'close'), once(socket, 'end')])
  socket.destroy()
  const [head, ...rest] = text.split('\r\n\r\n')
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') }
}

function assertContractError (answer: { status: number, headers: Record<string, string | string[] | undefined>, body: string }, status: number, code: string): void {
  assert.equal(answer.status, status, answer.body)
  const error = JSON.parse(answer.body)
  assert.equal(error.code, code)
  assert.equal(typeof error.message, 'string')
  assert.equal(error.correlationId, answer.headers[CORRELATION])
  assert.match(String(answer.headers['content-type']), /^application\/json/)
}

async function listening (t: TestContext) {
  const { options } = await testOptions(t)
  const worker = await startNodeComputeWorkerServer({ ...options, port: 0 })
  t.after(() => worker.close())
  return worker
}

async function get (url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
}

test('malformed percent-encoding in a path answers 400 in the contract shape, with the correlation id', async (t) => {
  const worker = await listening(t)
  const answer = await get(`${worker.url}/v1/runs/%E0%A4%A`, { ...bearer(KEYS.runsRead), [CORRELATION]: 'bad-url-1' })
  assertContractError(answer, 400, 'validation_error')
  assert.equal(answer.headers[CORRELATION], 'bad-url-1')
  assert.equal(answer.body.includes('%E0%A4%A'), false, 'the URL is not echoed')
})

test('path parameters up to the documented lengths reach their routes: 128-character run ids, 2048-character hook tokens URL-encoded', async (t) => {
  const worker = await listening(t)
  // Past the router's default of 100 characters, short of the run id's 128.
  const runId = `wrun_${'A'.repeat(115)}`
  assertContractError(await get(`${worker.url}/v1/runs/${runId}`, bearer(KEYS.runsRead)), 404, 'run_not_found')
  assertContractError(await get(`${worker.url}/v1/runs/${runId}${'A'.repeat(20)}`, bearer(KEYS.runsRead)), 400, 'validation_error')
  // Every character of this token is percent-encoded in the path: 6144 characters on the wire.
  const token = ':'.repeat(2048)
  assertContractError(await get(`${worker.url}/v1/world/hooks/by-token/${encodeURIComponent(token)}`, bearer(KEYS.worldProxy)), 404, 'hook_not_found')
  // Beyond any parameter the worker takes: the router refuses it, in the contract's shape.
  const tooLong = await get(`${worker.url}/v1/world/hooks/by-token/${'x'.repeat(6145)}`, bearer(KEYS.worldProxy))
  assertContractError(tooLong, 414, 'uri_too_long')
  assert.match(tooLong.headers[CORRELATION], UUID)
})

test('a header block over the server\'s limit, and a request that is not HTTP, answer the contract\'s error before the socket closes', async (t) => {
  const worker = await listening(t)
  const oversized = await rawExchange(worker.url, `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  assertContractError(oversized, 431, 'headers_too_large')
  assert.match(oversized.headers[CORRELATION], UUID)
  assertContractError(await rawExchange(worker.url, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'validation_error')
  // The server is still serving.
  assert.equal((await fetch(`${worker.url}/v1/health/live`)).status, 200)
})

test('the fetch front answers a malformed URL in the contract shape too', async (t) => {
  const { options } = await testOptions(t)
  const handler = createComputeWorker(options)
  t.after(() => handler.close())
  const res = await handler(new Request('http://worker/v1/runs/%E0%A4%A', { headers: bearer(KEYS.runsRead) }))
  assertContractError({ status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }, 400, 'validation_error')
})

test('plugin mode: the host owns its server options; with computeWorkerServerOptions its edges answer as the fronts\' do, without them the worker warns', async (t) => {
  const warnings: string[] = []
  const bare = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(JSON.parse(line).msg) } } } })
  t.after(() => bare.close())
  await bare.register(computeWorkerPlugin, (await testOptions(t)).options)
  await bare.ready()
  assert.ok(warnings.some((message) => /computeWorkerServerOptions/.test(message)), warnings.join('\n'))

  const host = Fastify({ ...computeWorkerServerOptions })
  t.after(() => host.close())
  await host.register(computeWorkerPlugin, { ...(await testOptions(t)).options, prefix: '/compute' })
  const bad = await host.inject({ url: '/compute/v1/runs/%E0%A4%A', headers: bearer(KEYS.runsRead) })
  assertContractError({ status: bad.statusCode, headers: bad.headers as Record<string, string>, body: bad.body }, 400, 'validation_error')
  const longRunId = await host.inject({ url: `/compute/v1/runs/wrun_${'A'.repeat(115)}`, headers: bearer(KEYS.runsRead) })
  assert.equal(longRunId.statusCode, 404)
})
