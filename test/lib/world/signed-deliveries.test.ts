import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createRemoteWorld } from '../../../lib/client/index.js'
import { createWorldForTarget } from '../../../lib/world/create-world.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { tempDir, until } from '../../helper.js'

const SECRET = 'delivery-secret-for-the-runtime-0001'
const RUNTIME_KEY = 'test-key-runtime-world-proxy-000000002'

interface Delivery { url: string, headers: IncomingHttpHeaders, body: { runId?: string } }

/** An app's delivery endpoint that records what reaches it and acknowledges it. */
async function startRecordingApp (t: TestContext): Promise<{ url: string, deliveries: Delivery[] }> {
  const deliveries: Delivery[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    deliveries.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) })
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deliveries }
}

test('with a delivery secret, every queue delivery the worker sends carries Authorization: Bearer <secret>, start-up recovery too', async (t) => {
  const app = await startRecordingApp(t)
  const dir = await tempDir(t)
  const world = createWorldForTarget({ target: 'local', localDataDir: join(dir, 'world'), localBaseUrl: app.url, deliverySecret: SECRET })
  // A run left pending by an earlier worker: start() re-queues it.
  const { run } = await world.events.create(null, {
    eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'dpl_x', workflowName: 'left', input: new Uint8Array([1]) }
  })
  const worker = await startNodeComputeWorkerServer({
    world,
    sqlitePath: join(dir, 'worker.db'),
    seedApiKeys: [{ key: RUNTIME_KEY, scopes: ['world:proxy'], name: 'runtime' }],
    port: 0
  })
  t.after(() => worker.close())

  const recovered = await until(async () => app.deliveries.find((delivery) => delivery.body.runId === run!.runId), 'the recovered run\'s delivery')
  assert.equal(recovered.url, '/.well-known/workflow/v1/flow')
  assert.equal(recovered.headers.authorization, `Bearer ${SECRET}`)

  // A message published through the lane (a remote runtime's start()), even one naming its own authorization.
  const runtime = createRemoteWorld({ baseUrl: worker.url, apiKey: RUNTIME_KEY })
  await runtime.queue('__wkf_step_doWork', { workflowName: 'w', workflowRunId: 'wrun_01J00000000000000000000009', workflowStartedAt: Date.now(), stepId: 'step_1' } as never, {
    headers: { authorization: 'Bearer forged' }
  })
  const published = await until(async () => app.deliveries.find((delivery) => delivery.url.endsWith('/step')), 'the published step delivery')
  assert.equal(published.headers.authorization, `Bearer ${SECRET}`)
})
