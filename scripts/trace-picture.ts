/**
 * Draws one run's trace from the spans the worker exports: a real `wf build` of the test app,
 * deployed on a worker with the in-process executor, one `sum` run triggered over the public lane
 * with a W3C traceparent; the spans are captured with an in-memory exporter.
 *
 *   node --import tsx scripts/trace-picture.ts [docs/trace-of-a-run.svg]
 *
 * Prints the text waterfall (the README shows it) and writes the SVG picture.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { createLocalWorld } from '@workflow/world-local'
import { createInProcessCompute } from '../lib/compute/index.js'
import { startTracing } from '../lib/observability/start-tracing.js'
import { buildComputeWorkerApp } from '../server.js'
import { SEED_KEYS, KEYS, bearer } from '../test/helper.js'
import { deployFixture, waitForRun } from '../test/public-lane.js'
import { waterfall, waterfallSvg } from './trace-waterfall.js'

const TRACE_ID = '5b8efff798038103d269b633813fc60c'
const output = process.argv[2] ?? 'docs/trace-of-a-run.svg'

const exporter = new InMemorySpanExporter()
const tracing = await startTracing({ exporters: [exporter], exportEachSpan: true })
const dir = await mkdtemp(join(tmpdir(), 'cw-trace-picture-'))
const app = buildComputeWorkerApp({
  world: createLocalWorld({ dataDir: join(dir, 'world') }),
  compute: createInProcessCompute(),
  sqlitePath: join(dir, 'worker.db'),
  artifactDir: join(dir, 'artifacts'),
  seedApiKeys: SEED_KEYS
})
await app.ready()
await deployFixture(app)
// The deployment's thread loads on its first delivery: a first run, untraced, keeps that out of the picture.
const warm = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'warm-up' }, payload: { workflowName: 'sum', input: [0, 0] } })
await waitForRun(app, warm.json().runId, (run) => run.status === 'completed')

const res = await app.inject({
  method: 'POST',
  url: '/v1/runs',
  headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'pictured', 'x-workflow-correlation-id': 'order-42', traceparent: `00-${TRACE_ID}-e457b5a2e4d86bd1-01` },
  payload: { workflowName: 'sum', input: [40, 2] }
})
const runId = res.json().runId as string
await waitForRun(app, runId, (run) => run.status === 'completed')
await sleep(200) // the last delivery's span ends just after the run completes
await tracing.forceFlush()
const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID)

console.log(`trace ${TRACE_ID}: run ${runId}, correlation id order-42, ${spans.length} spans`)
console.log(waterfall(spans, { width: 36 }))
await mkdir(dirname(output), { recursive: true })
await writeFile(output, waterfallSvg(spans, `One run's trace: POST /v1/runs → sum(40, 2) → addStep → completed (${spans.length} spans, one trace id)`))
console.log(`wrote ${output}`)

await app.close()
await tracing.shutdown()
await rm(dir, { recursive: true, force: true })
