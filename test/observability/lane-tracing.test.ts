import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { SpanKind, trace } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { createLocalWorld } from '@workflow/world-local'
import { ComputeClient, createRemoteWorld } from '../../lib/client/index.js'
import { startWorkerTracing } from '../../lib/observability/tracing-sdk.js'
import { startNodeComputeWorkerServer } from '../../server.js'
import { KEYS, SEED_KEYS, tempDir } from '../helper.js'

test('the remote World and the client send the caller\'s trace context: the worker\'s spans join its trace', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = startWorkerTracing({ exporters: [exporter], exportEachSpan: true })
  t.after(async () => { await tracing.shutdown() })
  const dir = await tempDir(t)
  const worker = await startNodeComputeWorkerServer({ world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0 })
  t.after(() => worker.close())
  const world = createRemoteWorld({ baseUrl: worker.url, apiKey: KEYS.worldProxy })
  const client = new ComputeClient({ baseUrl: worker.url, apiKey: KEYS.admin })

  const callerSpanId = await trace.getTracer('remote-runtime').startActiveSpan('caller', async (span) => {
    await world.events.create(null, {
      eventType: 'run_created',
      specVersion: 3,
      eventData: { deploymentId: 'dpl_a', workflowName: 'workflow//./workflows/demo//greet', input: new Uint8Array([100, 101, 118, 108, 7]) }
    })
    await client.listRuns({ limit: 1 })
    span.end()
    return span.spanContext().spanId
  })
  await tracing.forceFlush()

  const spans = exporter.getFinishedSpans()
  const callerSpan = spans.find((span) => span.spanContext().spanId === callerSpanId)!
  const servers = spans.filter((span) => span.kind === SpanKind.SERVER && span.parentSpanContext?.spanId === callerSpanId)
  assert.deepEqual(servers.map((span) => span.attributes['http.route']).sort(), ['/v1/runs', '/v1/world/events/create'])
  const [laneCall] = servers.filter((span) => span.attributes['http.route'] === '/v1/world/events/create')
  // world-local's own span of the call, in the worker, under the lane request's span.
  assert.ok(spans.some((span) => span.name === 'world.events.create run_created' && span.parentSpanContext?.spanId === laneCall.spanContext().spanId))
  assert.equal(laneCall.spanContext().traceId, callerSpan.spanContext().traceId)
})
