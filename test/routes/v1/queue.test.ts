import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { decodeTaggedJson } from '../../../lib/wire/codec.js'
import { build, tempDir } from '../../helper.js'
import { lane } from '../../world-lane.js'

interface Delivery { url: string, headers: IncomingHttpHeaders, body: any }

/** A real HTTP endpoint standing in for an app's /.well-known/workflow/v1/{flow,step} routes. */
async function deliveryTarget (t: TestContext): Promise<{ url: string, deliveries: Delivery[], next: () => Promise<Delivery> }> {
  const deliveries: Delivery[] = []
  const waiting: Array<(delivery: Delivery) => void> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const delivery = { url: req.url ?? '', headers: req.headers, body: decodeTaggedJson(Buffer.concat(chunks).toString()) }
      deliveries.push(delivery)
      waiting.shift()?.(delivery)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    next: () => new Promise((resolve) => {
      const ready = deliveries.shift()
      if (ready !== undefined) resolve(ready)
      else waiting.push((delivery) => { deliveries.shift(); resolve(delivery) })
    })
  }
}

test('queue publish: the World delivers the message, bytes intact, with the request\'s correlation id', async (t) => {
  const target = await deliveryTarget(t)
  const { app } = await build(t, { world: createLocalWorld({ dataDir: join(await tempDir(t), 'world'), baseUrl: target.url }) })
  const published = await lane(app, 'POST', '/v1/queue/publish', {
    queueName: '__wkf_workflow_workflow//./workflows/demo//greet',
    message: { runId: 'wrun_01KB2Z3A4B5C6D7E8F9G0H1J2K', runInput: { input: new Uint8Array([1, 2, 3]), deploymentId: 'd', workflowName: 'w', specVersion: 3 } },
    opts: { deploymentId: 'd', specVersion: 3 }
  }, { headers: { 'x-workflow-correlation-id': 'corr-queue-1' } })
  assert.equal(published.status, 200, JSON.stringify(published.body))
  assert.match(published.body.messageId, /^msg_/)
  const delivery = await target.next()
  assert.equal(delivery.url, '/.well-known/workflow/v1/flow')
  assert.equal(delivery.headers['x-vqs-queue-name'], '__wkf_workflow_workflow//./workflows/demo//greet')
  assert.equal(delivery.headers['x-workflow-correlation-id'], 'corr-queue-1')
  assert.deepEqual(delivery.body.runInput.input, new Uint8Array([1, 2, 3]))
})

test('queue publish refuses bad queue names and payloads with 400; a repeated idempotency key is not an error', async (t) => {
  const target = await deliveryTarget(t)
  const { app } = await build(t, { world: createLocalWorld({ dataDir: join(await tempDir(t), 'world'), baseUrl: target.url }) })
  const badName = await lane(app, 'POST', '/v1/queue/publish', { queueName: 'jobs', message: { runId: 'wrun_1' } })
  assert.deepEqual([badName.status, badName.body.name], [400, 'WorkflowWorldError'])
  const badMessage = await lane(app, 'POST', '/v1/queue/publish', { queueName: '__wkf_step_x', message: { nothing: true } })
  assert.equal(badMessage.status, 400)

  const step = {
    queueName: '__wkf_step_step//./workflows/demo//addStep',
    message: { workflowName: 'w', workflowRunId: 'wrun_1', workflowStartedAt: Date.now(), stepId: 'step_1' },
    opts: { idempotencyKey: 'step_1' }
  }
  const first = await lane(app, 'POST', '/v1/queue/publish', step)
  const second = await lane(app, 'POST', '/v1/queue/publish', step)
  assert.equal(first.status, 200)
  assert.equal(second.status, 200)
  assert.equal(second.body.messageId, first.body.messageId, 'the message in flight answers for the duplicate')
  const delivery = await target.next()
  assert.equal(delivery.url, '/.well-known/workflow/v1/step')
})
