import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { startWorkerTracing } from '../../lib/observability/tracing-sdk.js'
import { build } from '../helper.js'
import { waterfall } from '../../scripts/trace-waterfall.js'
import { eventually } from '../compute/helper.js'
import { deployFixture, waitForRun } from '../public-lane.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'

test('one trace from the trigger to the last step, across the deployment thread', async (t) => {
  const exporter = new InMemorySpanExporter()
  const tracing = startWorkerTracing({ exporters: [exporter], exportEachSpan: true })
  t.after(async () => { await tracing.shutdown() })
  const { app } = await build(t, { compute: createInProcessCompute() })
  await deployFixture(app)

  const res = await app.inject({
    method: 'POST',
    url: '/v1/runs',
    headers: {
      authorization: 'Bearer test-key-trigger-write-000000000001',
      'idempotency-key': 'traced-1',
      'x-workflow-correlation-id': 'corr-traced-1',
      traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`
    },
    payload: { workflowName: 'sum', input: [2, 3] }
  })
  assert.equal(res.statusCode, 202, res.body)
  const { runId } = res.json()
  const run = await waitForRun(app, runId, (r) => r.status === 'completed')
  assert.deepEqual(run.output, { total: 5, variant: 'A' })

  // The run's last workflow delivery ends after the run completed: wait for its span.
  const spans = await eventually(async () => {
    await tracing.forceFlush()
    const ofRun = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID)
    const deliveries = ofRun.filter((span) => span.name.startsWith('deliver workflow'))
    return deliveries.length >= 2 && deliveries.every((span) => ofRun.some((other) => other.name.startsWith('WORKFLOW') && other.parentSpanContext?.spanId === span.spanContext().spanId))
      ? ofRun
      : undefined
  })
  if (process.env.SHOW_TRACE !== undefined) console.log(waterfall(spans, { attributes: ['scope'] }))
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]))
  const named = (prefix: string): ReadableSpan[] => spans.filter((span) => span.name.startsWith(prefix))
  const parentOf = (span: ReadableSpan): ReadableSpan | undefined => byId.get(span.parentSpanContext?.spanId ?? '')

  await t.test('connected: every span descends from the caller\'s traceparent', () => {
    for (const span of spans) {
      let at: ReadableSpan | undefined = span
      let hops = 0
      while (at !== undefined && parentOf(at) !== undefined && hops++ < 100) at = parentOf(at)
      assert.equal(at?.parentSpanContext?.spanId, CALLER_SPAN, `${span.name} reaches the caller's span`)
    }
    const [server] = named('POST /v1/runs')
    assert.equal(server.parentSpanContext?.spanId, CALLER_SPAN)
    assert.equal(server.attributes['http.route'], '/v1/runs')
  })

  await t.test('trigger → delivery → workflow replay → delivery → step, in that order of descent', () => {
    const [start] = named('workflow.start')
    assert.equal(parentOf(start)?.name, 'POST /v1/runs')
    assert.equal(start.attributes['workflow.run.id'], runId)
    const [firstDelivery] = named('deliver workflow sum').sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    assert.equal(parentOf(firstDelivery), start)
    // The SDK's own spans, made inside the deployment's thread, hang under the delivery's span.
    const workflowSpans = named('WORKFLOW workflow//./workflows/demo//sum')
    assert.ok(workflowSpans.length >= 2, 'two WORKFLOW spans')
    assert.ok(workflowSpans.some((span) => parentOf(span) === firstDelivery), 'a WORKFLOW span under the first delivery')
    assert.ok(named('workflow.replay').length >= 1, 'a replay')
    const [stepDelivery] = named('deliver step addStep')
    assert.equal(stepDelivery.attributes['workflow.run.id'], runId)
    assert.equal(stepDelivery.attributes['workflow.queue.attempt'], 1)
    const [stepSpan] = named('STEP step//./workflows/demo//addStep')
    assert.equal(parentOf(stepSpan), stepDelivery)
    assert.equal(stepSpan.attributes['step.name'], 'step//./workflows/demo//addStep')
    assert.equal(stepSpan.attributes['step.attempt'], 1)
    assert.equal(stepSpan.attributes['workflow.run.id'], runId)
    // The World calls the thread made are spans of the same trace, made in the main thread.
    assert.ok(spans.some((span) => span.name === 'world.events.create step_started' && parentOf(span) === stepSpan), 'the step\'s World call')
  })

  await t.test('the correlation id is an attribute of every span', () => {
    const missing = spans.filter((span) => span.attributes['compute_worker.correlation_id'] !== 'corr-traced-1').map((span) => span.name)
    assert.deepEqual(missing, [])
  })
})
