import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, SEED_KEYS, bearer, tempDir } from '../helper.js'
import { runBin, startStandalone } from '../standalone.js'

interface OtlpSpan { traceId: string, spanId: string, parentSpanId?: string, name: string, attributes: Array<{ key: string, value: Record<string, unknown> }> }

/** A collector's OTLP/HTTP JSON trace endpoint: what the worker exports to, kept in memory. */
async function otlpReceiver () {
  const spans: OtlpSpan[] = []
  const resources: Array<Record<string, unknown>> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const request = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: { stringValue?: string } }> }, scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
        for (const resourceSpans of request.resourceSpans) {
          resources.push(Object.fromEntries(resourceSpans.resource.attributes.map(({ key, value }) => [key, value.stringValue])))
          for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans)
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { spans, resources, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
}

test('with OTEL_EXPORTER_OTLP_ENDPOINT the standalone server exports one trace per run to the collector', async (t) => {
  const collector = await otlpReceiver()
  t.after(() => collector.close())
  const dir = await tempDir(t)
  const worker = await startStandalone(t, {
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS),
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'worker-under-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    OTEL_BSP_SCHEDULE_DELAY: '50'
  })
  const build = await buildFixtureApp('A')
  const deployed = await runBin({ COMPUTE_WORKER_URL: worker.url, COMPUTE_WORKER_API_KEY: KEYS.admin }, ['deploy', build.dir, '--activate'])
  assert.equal(deployed.code, 0, deployed.output)

  const traceId = '0af7651916cd43dd8448eb211c80319c'
  const trigger = await fetch(`${worker.url}/v1/runs`, {
    method: 'POST',
    headers: { ...bearer(KEYS.triggerWrite), 'content-type': 'application/json', 'idempotency-key': 'otlp-1', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    body: JSON.stringify({ workflowName: 'greet', input: ['collector'] })
  })
  assert.equal(trigger.status, 202)
  const { runId } = await trigger.json() as { runId: string }
  for (let run = { status: 'pending' }; run.status !== 'completed';) {
    assert.notEqual(run.status, 'failed')
    await new Promise((resolve) => setTimeout(resolve, 100))
    run = await (await fetch(`${worker.url}/v1/runs/${runId}`, { headers: bearer(KEYS.runsRead) })).json() as { status: string }
  }
  // A graceful stop exports what is left.
  worker.child.kill('SIGTERM')
  assert.equal((await worker.exited).code, 0)

  const ofRun = collector.spans.filter((span) => span.traceId === traceId)
  const names = ofRun.map((span) => span.name)
  for (const name of ['POST /v1/runs', 'workflow.start workflow//./workflows/demo//greet', 'deliver workflow greet', 'WORKFLOW workflow//./workflows/demo//greet', 'deliver step greetStep', 'STEP step//./workflows/demo//greetStep']) {
    assert.ok(names.includes(name), `${name} in ${JSON.stringify(names)}`)
  }
  const ids = new Set(ofRun.map((span) => span.spanId))
  const orphans = ofRun.filter((span) => span.parentSpanId !== 'b7ad6b7169203331' && !ids.has(span.parentSpanId ?? ''))
  assert.deepEqual(orphans.map((span) => span.name), [])
  assert.ok(collector.resources.every((resource) => resource['service.name'] === 'worker-under-test' && resource['deployment.environment.name'] === 'test'))
})
