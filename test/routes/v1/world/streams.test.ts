import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { startNodeComputeWorkerServer } from '../../../../server.js'
import { encodeChunkList, FrameDecoder, FrameKind, type Frame } from '../../../../lib/wire/frames.js'
import { KEYS, bearer, build, SEED_KEYS, tempDir } from '../../../helper.js'
import { createRun, lane } from '../../../world-lane.js'

const text = (value: Uint8Array) => Buffer.from(value).toString()

function framesOf (body: Uint8Array): Frame[] {
  return new FrameDecoder().push(body)
}

async function writeRaw (app: any, name: string, runId: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: `/v1/world/streams/write?name=${name}&runId=${runId}`,
    headers: { ...bearer(KEYS.worldProxy), 'content-type': 'application/octet-stream', ...headers },
    payload: Buffer.from(body)
  })
}

test('stream writes in every form land in order, byte for byte; empty chunks are dropped', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  const name = 'strm_writes'
  assert.equal((await writeRaw(app, name, runId, Buffer.from('raw-0'))).statusCode, 204)
  const multi = await writeRaw(app, name, runId, encodeChunkList([Buffer.from('multi-1'), new Uint8Array(0), Buffer.from('multi-2')]), { 'x-stream-multi': 'true' })
  assert.equal(multi.statusCode, 204)
  assert.equal((await lane(app, 'POST', '/v1/world/streams/write', { name, runId, chunk: new Uint8Array([0, 255, 1]) })).status, 204)
  assert.equal((await lane(app, 'POST', '/v1/world/streams/write', { name, runId, chunks: ['text-4', ''] })).status, 204)
  assert.equal((await lane(app, 'POST', '/v1/world/streams/write', { name, runId, chunk: Buffer.from('cbor-5') }, { encoding: 'cbor' })).status, 204)
  assert.equal((await writeRaw(app, name, runId, new Uint8Array(0))).statusCode, 204)

  const page = await lane(app, 'GET', `/v1/world/streams/chunks?name=${name}&runId=${runId}`)
  assert.equal(page.status, 200)
  assert.deepEqual(page.body.data.map((chunk: { index: number }) => chunk.index), [0, 1, 2, 3, 4, 5])
  assert.deepEqual(page.body.data[3].data, new Uint8Array([0, 255, 1]))
  assert.deepEqual(page.body.data.filter((_: unknown, i: number) => i !== 3).map((chunk: { data: Uint8Array }) => text(chunk.data)),
    ['raw-0', 'multi-1', 'multi-2', 'text-4', 'cbor-5'])
  assert.deepEqual((await lane(app, 'GET', `/v1/world/streams/info?name=${name}&runId=${runId}`)).body, { tailIndex: 5, done: false })
  assert.deepEqual((await lane(app, 'GET', `/v1/world/streams/list?runId=${runId}`)).body, { streams: [name] })

  const paged = await lane(app, 'GET', `/v1/world/streams/chunks?name=${name}&runId=${runId}&limit=4`)
  assert.equal(paged.body.hasMore, true)
  const rest = await lane(app, 'GET', `/v1/world/streams/chunks?name=${name}&runId=${runId}&cursor=${encodeURIComponent(paged.body.cursor)}`)
  assert.deepEqual(rest.body.data.map((chunk: { index: number }) => chunk.index), [4, 5])
  const badCursor = await lane(app, 'GET', `/v1/world/streams/chunks?name=${name}&runId=${runId}&cursor=garbage`)
  assert.equal(badCursor.status, 400, 'a bad cursor would silently restart at chunk 0')
})

test('a closed stream refuses writes (409), a second close is harmless; malformed writes are 400', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  await writeRaw(app, 'strm_closed', runId, Buffer.from('a'))
  assert.equal((await lane(app, 'POST', '/v1/world/streams/close', { name: 'strm_closed', runId })).status, 204)
  const late = await writeRaw(app, 'strm_closed', runId, Buffer.from('b'))
  assert.equal(late.statusCode, 409)
  assert.equal(late.json().name, 'EntityConflictError')
  const again = await app.inject({ method: 'POST', url: `/v1/world/streams/close?name=strm_closed&runId=${runId}`, headers: bearer(KEYS.worldProxy) })
  assert.equal(again.statusCode, 204)

  const truncated = encodeChunkList([Buffer.from('abc')]).subarray(0, 5)
  assert.equal((await writeRaw(app, 'strm_x', runId, truncated, { 'x-stream-multi': 'true' })).statusCode, 400)
  assert.equal((await lane(app, 'POST', '/v1/world/streams/write', { name: 'strm_x', runId, chunk: 42 })).status, 400)
  const unnamed = await app.inject({ method: 'POST', url: '/v1/world/streams/write', headers: { ...bearer(KEYS.worldProxy), 'content-type': 'application/octet-stream' }, payload: 'x' })
  assert.equal(unnamed.statusCode, 400)
  const unsafe = await writeRaw(app, '..', runId, Buffer.from('x'))
  assert.equal(unsafe.statusCode, 400)
})

test('a stream closed on the World itself (an executor thread, an earlier process) refuses lane writes with 409', async (t) => {
  const dir = await tempDir(t)
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  const first = await build(t, { world, sqlitePath: join(dir, 'worker.db') })
  const runId = await createRun(first.app)

  await world.closeStream('strm_direct', runId)
  const late = await writeRaw(first.app, 'strm_direct', runId, Buffer.from('after the end'))
  assert.equal(late.statusCode, 409)
  assert.deepEqual(Object.keys(late.json()).sort(), ['code', 'correlationId', 'message', 'name'])
  assert.deepEqual([late.json().code, late.json().name], ['stream_closed', 'EntityConflictError'])

  assert.equal((await writeRaw(first.app, 'strm_restart', runId, Buffer.from('a'))).statusCode, 204)
  assert.equal((await lane(first.app, 'POST', '/v1/world/streams/close', { name: 'strm_restart', runId })).status, 204)
  await first.app.close()
  const second = await build(t, { world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'worker.db') })
  const afterRestart = await writeRaw(second.app, 'strm_restart', runId, Buffer.from('b'))
  assert.deepEqual([afterRestart.statusCode, afterRestart.json().name], [409, 'EntityConflictError'])
  const info = await lane(second.app, 'GET', `/v1/world/streams/info?name=strm_restart&runId=${runId}`)
  assert.deepEqual(info.body, { tailIndex: 0, done: true }, 'nothing was appended after the end marker')
})

test('writes for unknown runs are 404, except the SDK health check\'s made-up run id', async (t) => {
  const { app } = await build(t)
  const ghost = 'wrun_01J00000000000000000000000'
  const orphan = await writeRaw(app, 'strm_orphan', ghost, Buffer.from('x'))
  assert.deepEqual([orphan.statusCode, orphan.json().name], [404, 'WorkflowRunNotFoundError'])
  assert.equal((await writeRaw(app, '__health_check__01J0', ghost, Buffer.from('{"healthy":true}'))).statusCode, 204)
  assert.equal((await lane(app, 'POST', '/v1/world/streams/close', { name: '__health_check__01J0', runId: ghost })).status, 204)
})

test('stream writes take up to 16 MiB, not more', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  assert.equal((await writeRaw(app, 'strm_big', runId, new Uint8Array(8 * 1024 * 1024))).statusCode, 204)
  const tooBig = await writeRaw(app, 'strm_big', runId, new Uint8Array(16 * 1024 * 1024 + 1))
  assert.equal(tooBig.statusCode, 413)
  assert.equal(tooBig.json().code, 'payload_too_large')
})

test('a read of a closed stream: PING, one DATA frame per chunk with absolute indices, END; negative starts count from the end', async (t) => {
  const { app } = await build(t)
  const runId = await createRun(app)
  for (const chunk of ['c0', 'c1', 'c2', 'c3']) await writeRaw(app, 'strm_read', runId, Buffer.from(chunk))
  await lane(app, 'POST', '/v1/world/streams/close', { name: 'strm_read', runId })

  const all = await app.inject({ url: '/v1/world/streams/read?name=strm_read', headers: bearer(KEYS.worldProxy) })
  assert.equal(all.statusCode, 200)
  assert.equal(all.headers['content-type'], 'application/vnd.workflow.stream-frames.v1')
  assert.equal(all.headers['cache-control'], 'no-store')
  const frames = framesOf(all.rawPayload)
  assert.deepEqual(frames.map((frame) => [frame.kind, frame.index, text(frame.payload)]), [
    [FrameKind.PING, 0, ''], [FrameKind.DATA, 0, 'c0'], [FrameKind.DATA, 1, 'c1'], [FrameKind.DATA, 2, 'c2'], [FrameKind.DATA, 3, 'c3'], [FrameKind.END, 4, '']
  ])

  const tail = await app.inject({ url: `/v1/world/streams/read?name=strm_read&startIndex=-2&runId=${runId}`, headers: bearer(KEYS.worldProxy) })
  assert.equal(tail.headers['x-stream-start-index'], '2')
  assert.deepEqual(framesOf(tail.rawPayload).filter((frame) => frame.kind === FrameKind.DATA).map((frame) => [frame.index, text(frame.payload)]),
    [[2, 'c2'], [3, 'c3']])
  const clamped = await app.inject({ url: '/v1/world/streams/read?name=strm_read&startIndex=-99', headers: bearer(KEYS.worldProxy) })
  assert.equal(clamped.headers['x-stream-start-index'], '0')
})

/** world-local's readFromStream, counting the readers it hands out that are still open. */
function countingReaders (world: World): { world: World, open: () => number } {
  let open = 0
  const read = world.readFromStream.bind(world)
  world.readFromStream = async (name, startIndex) => {
    const reader = (await read(name, startIndex)).getReader()
    open++
    let released = false
    const release = () => { if (!released) { released = true; open-- } }
    return new ReadableStream<Uint8Array>({
      async pull (controller) {
        const next = await reader.read()
        if (next.done) { release(); controller.close() } else controller.enqueue(next.value)
      },
      async cancel (reason) { release(); await reader.cancel(reason) }
    })
  }
  return { world, open: () => open }
}

/** Frames of a live body, one at a time, as they arrive. */
function frameReader (body: ReadableStream<Uint8Array>): () => Promise<Frame> {
  const reader = body.getReader()
  const decoder = new FrameDecoder()
  const queued: Frame[] = []
  return async () => {
    while (queued.length === 0) {
      const { value, done } = await reader.read()
      assert.equal(done, false, 'the body ended early')
      queued.push(...decoder.push(value!))
    }
    return queued.shift()!
  }
}

async function until (condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  assert.ok(condition(), what)
}

test('live reads on a listening server: headers at once, chunks as written, END on close, no reader left when the client goes', async (t) => {
  const dir = await tempDir(t)
  const { world, open } = countingReaders(createLocalWorld({ dataDir: join(dir, 'world') }))
  const worker = await startNodeComputeWorkerServer({ world, sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0 })
  t.after(() => worker.close())
  const headers = bearer(KEYS.worldProxy)
  const runId = await createRun(worker.app)

  // A stream nobody wrote yet: answered at once (never 404), then fed as chunks arrive.
  const aborter = new AbortController()
  const response = await fetch(`${worker.url}/v1/world/streams/read?name=strm_live`, { headers, signal: aborter.signal })
  assert.equal(response.status, 200)
  const frame = frameReader(response.body!)
  assert.equal((await frame()).kind, FrameKind.PING)
  assert.equal(worker.app.worldLane.activeLiveReads, 1)

  await writeRaw(worker.app, 'strm_live', runId, Buffer.from('first'))
  assert.deepEqual(await frame().then((f) => [f.kind, f.index, text(f.payload)]), [FrameKind.DATA, 0, 'first'])
  await writeRaw(worker.app, 'strm_live', runId, Buffer.from('second'))
  assert.deepEqual(await frame().then((f) => [f.kind, f.index, text(f.payload)]), [FrameKind.DATA, 1, 'second'])

  // The client goes away mid-stream: the server lets go of the World's reader.
  aborter.abort()
  await until(() => worker.app.worldLane.activeLiveReads === 0, 'the lane released the live read')
  await until(() => open() === 0, 'the World reader was cancelled')

  // A read that runs to the end releases everything too.
  const full = await fetch(`${worker.url}/v1/world/streams/read?name=strm_live&startIndex=1`, { headers })
  const body = full.arrayBuffer()
  await lane(worker.app, 'POST', '/v1/world/streams/close', { name: 'strm_live', runId })
  const frames = framesOf(new Uint8Array(await body))
  assert.deepEqual(frames.filter((f) => f.kind !== FrameKind.PING).map((f) => [f.kind, f.index]), [[FrameKind.DATA, 1], [FrameKind.END, 2]])
  await until(() => open() === 0 && worker.app.worldLane.activeLiveReads === 0, 'nothing held after END')
})

test('closing the worker ends open live reads instead of waiting for them', async (t) => {
  const dir = await tempDir(t)
  const { world, open } = countingReaders(createLocalWorld({ dataDir: join(dir, 'world') }))
  const worker = await startNodeComputeWorkerServer({ world, sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0 })
  const response = await fetch(`${worker.url}/v1/world/streams/read?name=strm_never`, { headers: bearer(KEYS.worldProxy) })
  const body = response.arrayBuffer()
  await until(() => open() === 1, 'the read is open')
  await worker.close()
  const frames = framesOf(new Uint8Array(await body))
  assert.deepEqual(frames.map((f) => f.kind), [FrameKind.PING], 'the body ended without END: the client resumes elsewhere')
  assert.equal(open(), 0)
})
