import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { WorkflowWorldError } from '@workflow/errors'
import { createLocalWorld } from '@workflow/world-local'
import { ComputeClient, createRemoteWorld, createWorld, ServerComputeClientError } from '../../../lib/client/index.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { startFaultProxy } from '../../fault-proxy.js'
import { KEYS, SEED_KEYS, tempDir } from '../../helper.js'

/** A real listening server playing a broken or minimal worker; records every request. */
async function startServer (t: TestContext, answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => { seen.push(req); answer(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const stall = () => {}

/**
 * A fetch that records the path of every attempt as it is made: under load a request cut by its
 * deadline may never reach the server, so the server's count is not the client's.
 */
function countingFetch () {
  const attempts: string[] = []
  const counting: typeof fetch = async (input, init) => {
    attempts.push(new URL(String(input)).pathname)
    return await fetch(input, init)
  }
  return { attempts, counting }
}

async function rejection (promise: Promise<unknown>): Promise<any> {
  return await promise.then(() => assert.fail('expected a rejection'), (error: unknown) => error)
}

test('a remote World call without an answer within timeoutMs fails as WorkflowWorldError TIMEOUT', async (t) => {
  const server = await startServer(t, stall)
  const world = createRemoteWorld({ baseUrl: server.url, apiKey: 'k', timeoutMs: 100, retryDelayMs: 1 })
  const error = await rejection(world.getDeploymentId())
  assert.ok(WorkflowWorldError.is(error), String(error))
  assert.equal(error.code, 'TIMEOUT')
  assert.match(error.message, /timed out after 100 ms/)
})

test('the remote World repeats a safe call that got no answer within timeoutMs, as ComputeClient does, and never an unsafe one', async (t) => {
  const server = await startServer(t, stall)
  const { attempts, counting } = countingFetch()
  const world = createRemoteWorld({ baseUrl: server.url, apiKey: 'k', timeoutMs: 100, retries: 1, retryDelayMs: 1, fetch: counting })
  assert.equal((await rejection(world.getDeploymentId())).code, 'TIMEOUT')
  assert.deepEqual(attempts, ['/v1/world/deployment-id', '/v1/world/deployment-id'], 'one retry of the read, each with its own deadline')
  assert.equal((await rejection(world.writeToStream('out', 'wrun_01J00000000000000000000001', 'chunk'))).code, 'TIMEOUT')
  assert.equal(attempts.filter((path) => path === '/v1/world/streams/write').length, 1, 'an append is sent once')
})

test('ComputeClient timeoutMs bounds each attempt: no answer is a ServerComputeClientError network_error, retried like one', async (t) => {
  const server = await startServer(t, stall)
  const { attempts, counting } = countingFetch()
  const client = new ComputeClient({ baseUrl: server.url, apiKey: 'k', timeoutMs: 100, retries: 1, retryDelayMs: 1, fetch: counting })
  const error = await rejection(client.getRun('wrun_01J00000000000000000000001'))
  assert.ok(error instanceof ServerComputeClientError, String(error))
  assert.deepEqual([error.status, error.code], [0, 'network_error'])
  assert.match(error.message, /no answer within 100 ms/)
  assert.equal(attempts.length, 2, 'one retry of the read, each with its own deadline')
})

test('the remote World repeats safe calls after a 503, up to its retries, and never an unsafe one', async (t) => {
  const dir = await tempDir(t)
  const worker = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0
  })
  t.after(() => worker.close())
  const proxy = await startFaultProxy(t, worker.url)
  const world = createRemoteWorld({ baseUrl: proxy.url, apiKey: KEYS.worldProxy, retryDelayMs: 1, retries: 2 })

  proxy.fail('unavailable', 'unavailable')
  assert.equal(typeof await world.getDeploymentId(), 'string')
  assert.equal(proxy.seen.length, 3)

  proxy.fail('unavailable', 'unavailable', 'unavailable')
  const exhausted = await rejection(world.runs.list({}))
  assert.ok(WorkflowWorldError.is(exhausted))
  assert.equal(exhausted.status, 503)
  assert.equal(proxy.seen.length, 6)

  // A stream append's fate is unknown after a 503 from in between: not repeated.
  proxy.fail('unavailable')
  const append = await rejection(world.writeToStream('out', 'wrun_01J00000000000000000000001', 'chunk'))
  assert.equal(append.status, 503)
  assert.equal(proxy.seen.length, 7)
})

test('a stream read that keeps dropping without progress gives up after maxStreamReconnects with a TRANSPORT error', async (t) => {
  // 200 and an empty body every time: the connection ends before any frame, END included.
  const server = await startServer(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }).end() })
  const world = createRemoteWorld({ baseUrl: server.url, apiKey: 'k', maxStreamReconnects: 2 })
  const reader = (await world.readFromStream('out')).getReader()
  const error = await rejection(reader.read())
  assert.ok(WorkflowWorldError.is(error), String(error))
  assert.equal(error.code, 'TRANSPORT')
  assert.match(error.message, /kept dropping/)
  assert.equal(server.seen.length, 3, 'the first read and two reconnects')
})

test('createWorld() (WORKFLOW_TARGET_WORLD) requires COMPUTE_WORKER_URL and _API_KEY and checks COMPUTE_WORKER_WORLD_ENCODING', async (t) => {
  const names = ['COMPUTE_WORKER_URL', 'COMPUTE_WORKER_API_KEY', 'COMPUTE_WORKER_WORLD_ENCODING'] as const
  const saved = names.map((name) => process.env[name])
  t.after(() => names.forEach((name, i) => { if (saved[i] === undefined) delete process.env[name]; else process.env[name] = saved[i] }))
  const server = await startServer(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"deploymentId":"dpl_env"}') })
  const set = (values: Partial<Record<typeof names[number], string>>) => {
    for (const name of names) {
      if (values[name] === undefined) delete process.env[name]
      else process.env[name] = values[name]
    }
  }

  set({ COMPUTE_WORKER_API_KEY: 'k' })
  assert.throws(() => createWorld(), /COMPUTE_WORKER_URL and COMPUTE_WORKER_API_KEY/)
  set({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: '' })
  assert.throws(() => createWorld(), /COMPUTE_WORKER_URL and COMPUTE_WORKER_API_KEY/)
  set({ COMPUTE_WORKER_URL: server.url })
  assert.throws(() => createWorld(), /COMPUTE_WORKER_URL and COMPUTE_WORKER_API_KEY/)
  set({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: 'k', COMPUTE_WORKER_WORLD_ENCODING: 'xml' })
  assert.throws(() => createWorld(), /COMPUTE_WORKER_WORLD_ENCODING must be json or cbor, got xml/)

  set({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: 'k', COMPUTE_WORKER_WORLD_ENCODING: 'json' })
  assert.equal(await createWorld().getDeploymentId(), 'dpl_env')
  set({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: 'k' })
  assert.equal(await createWorld().getDeploymentId(), 'dpl_env')
  assert.deepEqual(server.seen.map((req) => [req.headers.accept, req.headers.authorization]), [
    ['application/json', 'Bearer k'],
    ['application/cbor', 'Bearer k']
  ])
})
