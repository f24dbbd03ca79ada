import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { World } from '@workflow/world'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { KEYS, bearer, testOptions } from '../../helper.js'
import { executeBuildOn } from '../../fixture-executor.js'
import { deployFixture, triggerRun, waitForRun } from '../../public-lane.js'

interface SseEvent { id?: string, event?: string, data: string }

function parseSse (text: string): SseEvent[] {
  return text.split('\n\n').filter((block) => block.trim() !== '' && !block.startsWith(':')).map((block) => {
    const event: SseEvent = { data: '' }
    for (const line of block.split('\n')) {
      const [field, ...rest] = line.split(': ')
      if (field === 'id') event.id = rest.join(': ')
      if (field === 'event') event.event = rest.join(': ')
      if (field === 'data') event.data = rest.join(': ')
    }
    return event
  })
}

/** Counts World stream readers opened and released (instrumentation around the real World). */
function trackStreamReaders (world: World): { opened: number, released: number } {
  const counts = { opened: 0, released: 0 }
  const read = world.readFromStream.bind(world)
  world.readFromStream = async (name, startIndex) => {
    const reader = (await read(name, startIndex)).getReader()
    counts.opened++
    return new ReadableStream<Uint8Array>({
      async pull (controller) {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      async cancel (reason) {
        counts.released++
        await reader.cancel(reason)
      }
    })
  }
  return counts
}

test('GET /v1/runs/:id/stream serves the default stream live, as SSE or ndjson, resumable, and lets go', async (t) => {
  const { options } = await testOptions(t)
  const readers = trackStreamReaders(options.world)
  const server = await startNodeComputeWorkerServer({ ...options, port: 0 })
  let closed = false
  t.after(async () => { if (!closed) await server.close() })
  const { build: fixture } = await deployFixture(server.app)
  await executeBuildOn(t, options.world, fixture.dir)
  const run = (await triggerRun(server.app, { workflowName: 'streamer', input: [['one', 'two', 'three']] })).json()
  const get = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${server.url}/v1/runs/${run.runId}/stream${path}`, { headers: { ...bearer(KEYS.runsRead), ...headers }, signal })

  await t.test('SSE: one event per chunk with its index, then end', async () => {
    const res = await get('')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    const events = parseSse(await res.text())
    assert.deepEqual(events.map((event) => [event.id, event.data]).slice(0, 3), [['0', '"one"'], ['1', '"two"'], ['2', '"three"']])
    assert.deepEqual(events.at(-1), { event: 'end', data: '{"nextIndex":3}' })
  })

  await t.test('ndjson by Accept, and resumable by startIndex or Last-Event-ID', async () => {
    const ndjson = await get('?startIndex=1', { accept: 'application/x-ndjson' })
    assert.match(ndjson.headers.get('content-type') ?? '', /^application\/x-ndjson/)
    const lines = (await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(lines, [{ index: 1, value: 'two' }, { index: 2, value: 'three' }, { end: true, nextIndex: 3 }])
    const resumed = parseSse(await (await get('', { 'last-event-id': '1' })).text())
    assert.deepEqual(resumed.map((event) => event.data), ['"three"', '{"nextIndex":3}'])
    const fromEnd = parseSse(await (await get('?startIndex=-1')).text())
    assert.deepEqual(fromEnd.map((event) => event.data), ['"three"', '{"nextIndex":3}'])
  })

  await t.test('a run that ended without writing its stream ends the response', async () => {
    const greet = (await triggerRun(server.app, { workflowName: 'greet', input: ['s'] })).json()
    await waitForRun(server.app, greet.runId, (r) => r.status === 'completed')
    const res = await fetch(`${server.url}/v1/runs/${greet.runId}/stream`, { headers: bearer(KEYS.runsRead) })
    assert.deepEqual(parseSse(await res.text()), [{ event: 'end', data: '{"nextIndex":0}' }])
  })

  await t.test('a client that goes away releases the World reader', async () => {
    const waiting = (await triggerRun(server.app, { workflowName: 'approval', input: ['stream-abort'] })).json()
    const before = { ...readers }
    const controller = new AbortController()
    const res = await fetch(`${server.url}/v1/runs/${waiting.runId}/stream`, { headers: bearer(KEYS.runsRead), signal: controller.signal })
    assert.equal(res.status, 200)
    for (let i = 0; i < 200 && readers.opened === before.opened; i++) await sleep(10)
    assert.equal(readers.opened, before.opened + 1)
    controller.abort()
    for (let i = 0; i < 500 && readers.released === before.released; i++) await sleep(10)
    assert.equal(readers.released, before.released + 1)
  })

  await t.test('404 run_not_found, 400 on a bad Last-Event-ID, 403 without runs:read', async () => {
    const missing = await fetch(`${server.url}/v1/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F/stream`, { headers: bearer(KEYS.runsRead) })
    assert.equal(missing.status, 404)
    assert.equal((await missing.json()).code, 'run_not_found')
    assert.equal((await get('', { 'last-event-id': 'x' })).status, 400)
    assert.equal((await fetch(`${server.url}/v1/runs/${run.runId}/stream`, { headers: bearer(KEYS.triggerWrite) })).status, 403)
  })

  await t.test('shutting down ends live streams without an end frame, so clients reconnect', async () => {
    const waiting = (await triggerRun(server.app, { workflowName: 'approval', input: ['stream-shutdown'] })).json()
    const res = await fetch(`${server.url}/v1/runs/${waiting.runId}/stream`, { headers: bearer(KEYS.runsRead) })
    assert.equal(res.status, 200)
    const text = res.text()
    closed = true
    const closing = await Promise.race([server.close().then(() => 'closed'), sleep(20_000, 'held open by the stream')])
    assert.equal(closing, 'closed')
    assert.equal(parseSse(await text).some((event) => event.event === 'end'), false)
  })
})
