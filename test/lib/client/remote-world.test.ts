import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import {
  EntityConflictError,
  HookConflictError,
  HookNotFoundError,
  PreconditionFailedError,
  RunExpiredError,
  RunNotSupportedError,
  ThrottleError,
  TooEarlyError,
  WorkflowRunNotFoundError,
  WorkflowWorldError
} from '@workflow/errors'
import type { World, WorkflowRun } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { createRemoteWorld, type RemoteWorldOptions } from '../../../lib/client/index.js'
import { decodeTaggedJson } from '../../../lib/wire/codec.js'
import { withDeliverySecret } from '../../../lib/world/signed-deliveries.js'
import { createComputeWorker } from '../../../fetch.js'
import { startNodeComputeWorkerServer, type StartedComputeWorkerServer } from '../../../server.js'
import type { ComputeWorkerOptions } from '../../../lib/options.js'
import { KEYS, SEED_KEYS, tempDir } from '../../helper.js'

async function startWorker (t: TestContext, world?: World, overrides: Partial<ComputeWorkerOptions> = {}): Promise<StartedComputeWorkerServer & { world: World }> {
  const dir = await tempDir(t)
  const backing = world ?? createLocalWorld({ dataDir: join(dir, 'world') })
  const worker = await startNodeComputeWorkerServer({ world: backing, sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0, ...overrides })
  t.after(() => worker.close())
  return { ...worker, world: backing }
}

function remote (worker: { url: string }, options: Partial<RemoteWorldOptions> = {}): World {
  return createRemoteWorld({ baseUrl: worker.url, apiKey: KEYS.worldProxy, retryDelayMs: 1, ...options })
}

const RUN_CREATED = {
  eventType: 'run_created' as const,
  specVersion: 3,
  eventData: { deploymentId: 'dpl_a', workflowName: 'workflow//./workflows/demo//greet', input: new Uint8Array([100, 101, 118, 108, 7]) }
}

async function newRun (world: World): Promise<string> {
  const { run } = await world.events.create(null, RUN_CREATED)
  await world.events.create(run!.runId, { eventType: 'run_started', specVersion: 3 })
  return run!.runId
}

async function rejection (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (error) {
    return error
  }
  assert.fail('expected a rejection')
}

test('a complete World: every member of the interface, specVersion known synchronously', () => {
  const world = createRemoteWorld({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k' })
  assert.equal(world.specVersion, 3)
  const members: Array<[string, unknown]> = [
    ['getDeploymentId', world.getDeploymentId], ['queue', world.queue], ['createQueueHandler', world.createQueueHandler],
    ['runs.get', world.runs.get], ['runs.list', world.runs.list], ['steps.get', world.steps.get], ['steps.list', world.steps.list],
    ['events.create', world.events.create], ['events.get', world.events.get], ['events.list', world.events.list],
    ['events.listByCorrelationId', world.events.listByCorrelationId], ['hooks.get', world.hooks.get],
    ['hooks.getByToken', world.hooks.getByToken], ['hooks.list', world.hooks.list], ['writeToStream', world.writeToStream],
    ['writeToStreamMulti', world.writeToStreamMulti], ['closeStream', world.closeStream], ['readFromStream', world.readFromStream],
    ['listStreamsByRunId', world.listStreamsByRunId], ['getStreamChunks', world.getStreamChunks], ['getStreamInfo', world.getStreamInfo],
    ['start', world.start], ['close', world.close], ['resolveLatestDeploymentId', world.resolveLatestDeploymentId],
    ['getEncryptionKeyForRun', world.getEncryptionKeyForRun]
  ]
  for (const [name, member] of members) assert.equal(typeof member, 'function', name)
})

test('the World\'s errors come back as the same @workflow/errors classes, recognized by their .is()', async (t) => {
  let toThrow: Error = new Error('unset')
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  // Fault injection on the real World: one call throws whatever the case below needs.
  world.hooks.list = async () => { throw toThrow }
  const worker = await startWorker(t, world)
  const client = remote(worker)
  const cases: Array<[Error, (error: any) => void]> = [
    [new WorkflowRunNotFoundError('wrun_x'), (e) => { assert.ok(WorkflowRunNotFoundError.is(e)); assert.equal(e.runId, 'wrun_x') }],
    [new HookNotFoundError('tok'), (e) => { assert.ok(HookNotFoundError.is(e)); assert.equal(e.token, 'tok') }],
    [new HookConflictError('tok', 'wrun_owner'), (e) => { assert.ok(HookConflictError.is(e)); assert.equal(e.conflictingRunId, 'wrun_owner') }],
    [new EntityConflictError('taken'), (e) => { assert.ok(EntityConflictError.is(e)); assert.equal(e.message, 'taken') }],
    [new RunExpiredError('over'), (e) => assert.ok(RunExpiredError.is(e))],
    [new PreconditionFailedError('stale', { retryAfter: 3 }), (e) => { assert.ok(PreconditionFailedError.is(e)); assert.equal(e.retryAfter, 3) }],
    [new TooEarlyError('wait', { retryAfter: 2 }), (e) => { assert.ok(TooEarlyError.is(e)); assert.equal(e.retryAfter, 2) }],
    [new ThrottleError('slow down', { retryAfter: 1 }), (e) => { assert.ok(ThrottleError.is(e)); assert.equal(e.retryAfter, 1) }],
    [new RunNotSupportedError(4, 3), (e) => { assert.ok(RunNotSupportedError.is(e)); assert.deepEqual([e.runSpecVersion, e.worldSpecVersion], [4, 3]) }],
    [new WorkflowWorldError('gone wrong', { status: 503 }), (e) => { assert.ok(WorkflowWorldError.is(e)); assert.equal(e.status, 503) }],
    [new Error('disk on fire'), (e) => { assert.ok(WorkflowWorldError.is(e)); assert.equal(e.status, 500); assert.doesNotMatch(e.message, /disk/) }]
  ]
  for (const [thrown, check] of cases) {
    toThrow = thrown
    for (const encoding of ['cbor', 'json'] as const) check(await rejection(remote(worker, { encoding, retries: 0 }).hooks.list({})))
  }
  await client.close?.()
})

test('errors the runtime branches on, from real World calls', async (t) => {
  const worker = await startWorker(t)
  const client = remote(worker)
  assert.ok(WorkflowRunNotFoundError.is(await rejection(client.runs.get('wrun_01J00000000000000000000000'))))
  assert.ok(HookNotFoundError.is(await rejection(client.hooks.getByToken('no-such-token'))))
  const runId = await newRun(client)
  assert.ok(EntityConflictError.is(await rejection(client.events.create(runId, RUN_CREATED))))
  const cursorError = await rejection(client.events.list({ runId, pagination: { cursor: 'garbage' } }))
  assert.ok(WorkflowWorldError.is(cursorError))
  assert.equal(cursorError.status, 400, 'status 400 makes the runtime reload without the cursor')
  await client.events.create(runId, { eventType: 'run_cancelled', specVersion: 3 })
  assert.ok(RunExpiredError.is(await rejection(client.events.create(runId, { eventType: 'run_started', specVersion: 3 }))))

  const wrongKey = await rejection(createRemoteWorld({ baseUrl: worker.url, apiKey: KEYS.runsRead }).getDeploymentId())
  assert.deepEqual([WorkflowWorldError.is(wrongKey), wrongKey.status], [true, 403])

  const down = createRemoteWorld({ baseUrl: 'http://127.0.0.1:9', apiKey: KEYS.worldProxy, retries: 0 })
  const transport = await rejection(down.getDeploymentId())
  assert.deepEqual([WorkflowWorldError.is(transport), transport.code], [true, 'TRANSPORT'], 'retryable by redelivery')
})

test('the worker\'s own rate limit reaches the runtime as a ThrottleError with retryAfter', async (t) => {
  const worker = await startWorker(t, undefined, { rateLimitPerMinute: 2 })
  const client = remote(worker)
  await client.getDeploymentId()
  await client.getDeploymentId()
  const throttled = await rejection(client.getDeploymentId())
  assert.ok(ThrottleError.is(throttled))
  assert.ok((throttled.retryAfter ?? 0) > 0)
})

/** A fetch that fails the first attempt at each matching request with a network error, then lets them through. */
function flakyFetch (fails: (url: string, body: string | undefined) => boolean) {
  const calls: Array<{ url: string, body: string | undefined }> = []
  const failed = new Set<string>()
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input)
    const body = typeof init?.body === 'string' ? init.body : undefined
    calls.push({ url, body })
    const key = `${url.replace(/[?].*$/, '')} ${body ?? ''}`
    if (fails(url, body) && !failed.has(key)) {
      failed.add(key)
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })
    }
    return await fetch(input, init)
  }
  return { fetchImpl, calls }
}

test('a lost answer is retried only where a repeat is harmless: never step_started, hook_received or stream appends', async (t) => {
  const worker = await startWorker(t)
  const setup = remote(worker)
  const runId = await newRun(setup)
  await setup.events.create(runId, { eventType: 'step_created', specVersion: 3, correlationId: 'step_1', eventData: { stepName: 's', input: new Uint8Array([1]) } })
  await setup.events.create(runId, { eventType: 'hook_created', specVersion: 3, correlationId: 'hook_1', eventData: { token: 'tok-retry' } })

  const { fetchImpl, calls } = flakyFetch((url) => !url.endsWith('/v1/world/info'))
  const client = remote(worker, { encoding: 'json', fetch: fetchImpl })
  const attempts = (path: string, marker: string) => calls.filter((call) => call.url.includes(path) && (call.body ?? call.url).includes(marker)).length

  for (const [data, marker] of [
    [{ eventType: 'step_started', specVersion: 3, correlationId: 'step_1' }, 'step_started'],
    [{ eventType: 'hook_received', specVersion: 3, correlationId: 'hook_1', eventData: { payload: new Uint8Array([1]) } }, 'hook_received']
  ] as const) {
    const error = await rejection(client.events.create(runId, data as any))
    assert.equal(error.code, 'TRANSPORT', marker)
    assert.equal(attempts('/events/create', marker), 1, `${marker} was sent once`)
  }
  const append = await rejection(client.writeToStream('strm_retry', runId, 'chunk'))
  assert.equal(append.code, 'TRANSPORT')
  assert.equal(attempts('/streams/write', 'strm_retry'), 1)

  await client.events.create(runId, { eventType: 'step_completed', specVersion: 3, correlationId: 'step_1', eventData: { result: new Uint8Array([2]) } })
  assert.equal(attempts('/events/create', 'step_completed'), 2, 'step_completed was repeated and went through')
  await client.closeStream('strm_retry', runId)
  assert.equal(attempts('/streams/close', 'strm_retry'), 2)
  assert.equal((await client.runs.get(runId)).status, 'running')
})

test('deliveries from the worker\'s World are decoded by the remote World\'s queue handler (world-local\'s own)', async (t) => {
  const received: Array<{ message: any, meta: any }> = []
  const deliverySecret = 'test-delivery-secret-remote-world-01'
  const client0 = createRemoteWorld({ baseUrl: 'http://unused.invalid', apiKey: 'unused', deliverySecret })
  const flow = client0.createQueueHandler('__wkf_workflow_', async (message, meta) => { received.push({ message, meta }) })
  const app = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk)
    const response = await flow(new Request(`http://app${req.url}`, { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }))
    res.writeHead(response.status, { 'content-type': 'application/json' }).end(await response.text())
  })
  app.listen(0, '127.0.0.1')
  await once(app, 'listening')
  t.after(() => new Promise((resolve) => app.close(resolve)))
  const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`

  const worker = await startWorker(t, withDeliverySecret(createLocalWorld({ dataDir: join(await tempDir(t), 'world'), baseUrl: appUrl }), deliverySecret))
  const client = remote(worker)
  const requestedAt = new Date(1_700_000_000_123)
  await client.queue('__wkf_workflow_workflow//./workflows/demo//greet', {
    runId: 'wrun_1', requestedAt, runInput: { input: new Uint8Array([1, 2, 3]), deploymentId: 'd', workflowName: 'w', specVersion: 3 }
  } as any)
  for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(received.length, 1)
  assert.equal(received[0].meta.queueName, '__wkf_workflow_workflow//./workflows/demo//greet')
  assert.equal(received[0].meta.attempt, 1)
  assert.deepEqual(received[0].message.runInput.input, new Uint8Array([1, 2, 3]))
  assert.equal(received[0].message.requestedAt, requestedAt.toISOString(), 'as world-local delivers it; the runtime coerces')
  await client0.close?.()
})

test('encryption keys: the stored run\'s deployment decides, only deploymentId leaves the caller, no round trips when the World does not encrypt', async (t) => {
  const secret = 'test-master-secret'
  const deriveKey = (runId: string, deploymentId: string) => new Uint8Array(createHmac('sha256', secret).update(`${deploymentId}|${runId}`).digest())
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') }) as World
  // An encrypting World: world-local extended with a key derivation (world-local itself has none).
  world.getEncryptionKeyForRun = (async (runOrId: WorkflowRun | string, context?: Record<string, unknown>) => typeof runOrId === 'string'
    ? deriveKey(runOrId, String(context?.deploymentId))
    : deriveKey(runOrId.runId, runOrId.deploymentId)) as World['getEncryptionKeyForRun']
  const worker = await startWorker(t, world)
  const bodies: string[] = []
  const client = remote(worker, {
    encoding: 'json',
    fetch: async (input, init) => {
      if (String(input).endsWith('/encryption-key')) bodies.push(String(init?.body))
      return await fetch(input, init)
    }
  })
  const runId = await newRun(client)
  const run = await client.runs.get(runId)
  assert.deepEqual(await client.getEncryptionKeyForRun!(run), deriveKey(runId, 'dpl_a'))
  assert.deepEqual(await client.getEncryptionKeyForRun!(runId, { deploymentId: 'dpl_other' }), deriveKey(runId, 'dpl_a'),
    'a caller cannot pick another deployment\'s key for a stored run')
  const fresh = 'wrun_01KB2Z3A4B5C6D7E8F9G0H1J2K'
  assert.deepEqual(await client.getEncryptionKeyForRun!(fresh, { deploymentId: 'dpl_b', world: client, secretish: 'x' }), deriveKey(fresh, 'dpl_b'))
  assert.deepEqual(JSON.parse(bodies.at(-1)!), { runId: fresh, context: { deploymentId: 'dpl_b' } })

  const plain = await startWorker(t)
  const calls: string[] = []
  const plainClient = remote(plain, { fetch: async (input, init) => { calls.push(String(input)); return await fetch(input, init) } })
  assert.equal(await plainClient.getEncryptionKeyForRun!('wrun_1'), undefined)
  assert.equal(await plainClient.getEncryptionKeyForRun!('wrun_2'), undefined)
  assert.deepEqual(calls.map((url) => new URL(url).pathname), ['/v1/world/info'], 'asked once, never for a key')
})

test('streams through the remote World: chunk boundaries kept, negative starts, resumption after a cut, release on cancel', async (t) => {
  const worker = await startWorker(t)
  const client = remote(worker)
  const runId = await newRun(client)
  const chunks = [new Uint8Array([1]), new Uint8Array(100_000).fill(2), new TextEncoder().encode('devl-framed'), new Uint8Array([3, 4])]
  await client.writeToStream('strm_a', runId, chunks[0])
  await client.writeToStreamMulti!('strm_a', runId, chunks.slice(1, 3))
  await client.writeToStream('strm_a', runId, chunks[3])
  await client.closeStream('strm_a', runId)

  const readAll = async (world: World, startIndex?: number) => {
    const got: Uint8Array[] = []
    for await (const chunk of await world.readFromStream('strm_a', startIndex) as unknown as AsyncIterable<Uint8Array>) got.push(chunk)
    return got
  }
  assert.deepEqual(await readAll(client), chunks)
  assert.deepEqual(await readAll(client, -2), chunks.slice(2))
  assert.deepEqual(await client.getStreamInfo('strm_a', runId), { tailIndex: 3, done: true })
  assert.deepEqual(await client.listStreamsByRunId(runId), ['strm_a'])
  const page = await client.getStreamChunks('strm_a', runId, { limit: 2 })
  assert.deepEqual(page.data.map((chunk) => chunk.data), chunks.slice(0, 2))

  // A proxy that cuts the first read of each stream after 150 bytes, inside the 100 kB chunk:
  // the reader resumes from the next index and delivers no chunk twice.
  let reads = 0
  const cutting = remote(worker, {
    fetch: async (input, init) => {
      const response = await fetch(input, init)
      if (!String(input).includes('/streams/read') || reads++ % 2 === 1) return response
      const reader = response.body!.getReader()
      let sent = 0
      const body = new ReadableStream<Uint8Array>({
        async pull (controller) {
          const { value, done } = await reader.read()
          if (done || sent >= 150) { await reader.cancel(); controller.close(); return }
          const part = value.subarray(0, 150 - sent)
          sent += part.byteLength
          controller.enqueue(part)
        }
      })
      return new Response(body, { status: response.status, headers: response.headers })
    }
  })
  assert.deepEqual(await readAll(cutting), chunks)
  assert.deepEqual(await readAll(cutting, -3), chunks.slice(1))

  // Cancelling a read of a stream still open lets go of the server's reader.
  await client.writeToStream('strm_open', runId, 'x')
  const open = await client.readFromStream('strm_open')
  const reader = open.getReader()
  assert.deepEqual(await reader.read(), { done: false, value: new TextEncoder().encode('x') })
  assert.equal(worker.app.worldLane.activeLiveReads, 1)
  await reader.cancel()
  for (let i = 0; i < 200 && worker.app.worldLane.activeLiveReads > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(worker.app.worldLane.activeLiveReads, 0)
})

test('a failing World stream reaches the reader as its error (ERROR frame)', async (t) => {
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  let pulls = 0
  world.readFromStream = async () => new ReadableStream<Uint8Array>({
    pull (controller) {
      if (pulls++ === 0) controller.enqueue(new Uint8Array([1]))
      else controller.error(new WorkflowRunNotFoundError('wrun_gone'))
    }
  })
  const worker = await startWorker(t, world)
  const reader = (await remote(worker).readFromStream('strm_fail')).getReader()
  assert.deepEqual((await reader.read()).value, new Uint8Array([1]))
  const error = await rejection(reader.read())
  assert.ok(WorkflowRunNotFoundError.is(error))
  assert.equal(error.runId, 'wrun_gone')
})

test('start() aligns the spec version with the worker\'s World; JSON answers are revived with the World\'s schemas', async (t) => {
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  const worker = await startWorker(t, Object.assign(world, { specVersion: 2 }))
  const client = remote(worker, { encoding: 'json' })
  await client.start?.()
  assert.equal(client.specVersion, 2)
  const { run: created } = await client.events.create(null, { ...RUN_CREATED, specVersion: client.specVersion })
  const runId = created!.runId
  const run = await client.runs.get(runId)
  assert.ok(run.createdAt instanceof Date)
  assert.deepEqual(run.input, RUN_CREATED.eventData.input)
  const events = await client.events.list({ runId, pagination: { sortOrder: 'asc' } })
  assert.ok(events.data.every((event) => event.createdAt instanceof Date))
  const decoded = decodeTaggedJson(JSON.stringify({ createdAt: run.createdAt })) as { createdAt: unknown }
  assert.equal(typeof decoded.createdAt, 'string', 'on the wire the date is a string; the schema made it a Date')
})

test('the remote World also runs over the fetch-style handler (createComputeWorker), through its injectable fetch', async (t) => {
  const dir = await tempDir(t)
  const handler = createComputeWorker({ world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS })
  t.after(() => handler.close())
  const client = createRemoteWorld({
    baseUrl: 'http://worker.internal',
    apiKey: KEYS.worldProxy,
    fetch: async (input, init) => await handler(new Request(input, init))
  })
  const runId = await newRun(client)
  assert.equal((await client.runs.get(runId)).status, 'running')
  await client.writeToStream('strm_fetch', runId, 'over inject')
  const reader = (await client.readFromStream('strm_fetch')).getReader()
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'over inject', 'a live body, not buffered to the end')
  await client.closeStream('strm_fetch', runId)
  assert.equal((await reader.read()).done, true)
})
