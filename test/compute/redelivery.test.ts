import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { World } from '@workflow/world'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { build } from '../helper.js'
import { deployBuild, runOutput, startRun, workflowId } from './helper.js'

// The SDK fails a run once a message's delivery attempt passes 48 (MAX_QUEUE_DELIVERIES), and
// world-local counts a sleep's redelivery as one more attempt of the same message. A real chain
// of 49 sleeps costs 49 s (each at least a second), so the queue's numbering is shifted instead:
// every workflow delivery reaches the executor numbered as the message's 46th, 47th, 48th…
// delivery would be. Without the executor's reset, sleepChain(4) dies on its 4th sleep.
const SHIFT = 45

test('a message redelivered past the 48th attempt by sleeps keeps running (redeliveries after timeoutSeconds count afresh)', async (t) => {
  const a = await buildFixtureApp('A')
  const compute = createInProcessCompute()
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld as World & { registerHandler: (prefix: string, handler: (request: Request) => Promise<Response>) => void }
  await deployBuild(options.artifactDir!, 'dpl_a', a)

  const attempts = new Map<string, number[]>()
  // Replaces the executor's own workflow handler (world-local keeps one per prefix).
  world.registerHandler('__wkf_workflow_', async (request) => {
    const messageId = request.headers.get('x-vqs-message-id') ?? ''
    const attempt = Number(request.headers.get('x-vqs-message-attempt')) + SHIFT
    attempts.set(messageId, [...attempts.get(messageId) ?? [], attempt])
    const headers = new Headers(request.headers)
    headers.set('x-vqs-message-attempt', String(attempt))
    const res = await compute.handleDelivery('flow', new Request(request.url, { method: 'POST', headers, body: await request.arrayBuffer() }))
    // Closed at the end of the test: let the message go, as the executor's own handler does.
    return res.status === 503 ? Response.json({ ok: true }) : res
  })

  const runId = await startRun(world, 'dpl_a', workflowId(a, 'sleepChain'), [4])
  assert.equal(await runOutput(world, runId), 4)
  // One message carried the whole run: its first delivery and one per sleep, shown past 48.
  const longest = [...attempts.values()].reduce((most, list) => list.length > most.length ? list : most, [])
  assert.deepEqual(longest, [46, 47, 48, 49, 50])
})
