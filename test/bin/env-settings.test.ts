import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { readStandaloneSettings } from '../../bin/env.js'
import { loggerOptions } from '../../lib/logging.js'
import { DEFAULTS, resolveOptions } from '../../lib/options.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, SEED_KEYS, bearer, tempDir } from '../helper.js'
import { startStandalone } from '../standalone.js'

test('valid server settings from the environment reach the options the server is built with', async (t) => {
  const dir = await tempDir(t)
  const settings = readStandaloneSettings({
    COMPUTE_WORKER_REQUIRE_HTTPS: 'true',
    COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE: '250',
    COMPUTE_WORKER_MAX_DEPLOYMENT_BYTES: '1048576',
    COMPUTE_WORKER_IDEMPOTENCY_RETENTION_HOURS: ' 48 ',
    COMPUTE_WORKER_ARTIFACT_DIR: ` ${join(dir, 'artifacts')} `,
    HOST: '0.0.0.0',
    PORT: '9090',
    LOG_LEVEL: 'debug'
  })
  assert.deepEqual([settings.host, settings.port, settings.logLevel], ['0.0.0.0', 9090, 'debug'])
  assert.equal(loggerOptions(settings.logLevel).level, 'debug')

  // bin/commands/serve.ts builds the app from settings.options; resolveOptions is what the app then uses.
  const resolved = resolveOptions({ ...settings.options, world: createLocalWorld({ dataDir: join(dir, 'world') }) })
  assert.equal(resolved.requireHttps, true)
  assert.equal(resolved.rateLimitPerMinute, 250)
  assert.equal(resolved.maxDeploymentBytes, 1_048_576)
  assert.equal(resolved.idempotencyRetentionHours, 48)
  assert.equal(resolved.artifactDir, join(dir, 'artifacts'))
})

test('without those variables the server runs on the documented defaults', async (t) => {
  const dir = await tempDir(t)
  const settings = readStandaloneSettings({})
  assert.deepEqual([settings.host, settings.port, settings.logLevel], ['127.0.0.1', 8080, 'info'])
  const resolved = resolveOptions({ ...settings.options, world: createLocalWorld({ dataDir: join(dir, 'world') }) })
  assert.equal(resolved.requireHttps, false)
  assert.equal(resolved.rateLimitPerMinute, DEFAULTS.rateLimitPerMinute)
  assert.equal(resolved.maxDeploymentBytes, DEFAULTS.maxDeploymentBytes)
  assert.equal(resolved.idempotencyRetentionHours, DEFAULTS.idempotencyRetentionHours)
  assert.equal(resolved.artifactDir, DEFAULTS.artifactDir)
  // Empty is unset, and PORT=0 asks for any free port.
  const blank = readStandaloneSettings({ HOST: ' ', LOG_LEVEL: '', COMPUTE_WORKER_ARTIFACT_DIR: '', PORT: '0' })
  assert.deepEqual([blank.host, blank.port, blank.logLevel, blank.options.artifactDir], ['127.0.0.1', 0, 'info', DEFAULTS.artifactDir])
})

test('COMPUTE_WORKER_REQUIRE_HTTPS takes the usual spellings of true and false', () => {
  for (const yes of ['true', 'TRUE', '1', 'yes', 'on']) {
    assert.equal(readStandaloneSettings({ COMPUTE_WORKER_REQUIRE_HTTPS: yes }).options.requireHttps, true, yes)
  }
  for (const no of ['false', '0', 'no', 'Off']) {
    assert.equal(readStandaloneSettings({ COMPUTE_WORKER_REQUIRE_HTTPS: no }).options.requireHttps, false, no)
  }
})

test('the standalone server enforces COMPUTE_WORKER_REQUIRE_HTTPS, _RATE_LIMIT_PER_MINUTE and _MAX_DEPLOYMENT_BYTES', async (t) => {
  const dir = await tempDir(t)
  const worker = await startStandalone(t, {
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS),
    COMPUTE_WORKER_COMPUTE: 'none',
    COMPUTE_WORKER_REQUIRE_HTTPS: 'true',
    COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE: '2',
    COMPUTE_WORKER_MAX_DEPLOYMENT_BYTES: '64',
    // Only so that requests can claim HTTPS through a proxy header: the server itself speaks plain HTTP.
    COMPUTE_WORKER_TRUST_PROXY: 'true'
  })
  const overHttps = { 'x-forwarded-proto': 'https' }

  const plain = await fetch(`${worker.url}/v1/runs`, { headers: bearer(KEYS.runsWrite) })
  assert.equal(plain.status, 403)
  assert.equal((await plain.json()).code, 'https_required')
  assert.equal((await fetch(`${worker.url}/v1/health`)).status, 200)

  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${worker.url}/v1/runs`, { headers: { ...bearer(KEYS.runsRead), ...overHttps } })
    assert.equal(res.status, 200, `request ${i + 1}`)
    assert.equal(res.headers.get('x-ratelimit-limit'), '2')
  }
  const limited = await fetch(`${worker.url}/v1/runs`, { headers: { ...bearer(KEYS.runsRead), ...overHttps } })
  assert.equal(limited.status, 429)
  assert.equal((await limited.json()).code, 'rate_limited')

  const { manifest } = await buildFixtureApp('A')
  const tooLarge = await fetch(`${worker.url}/v1/deployments`, {
    method: 'POST',
    headers: { ...bearer(KEYS.deployWrite), ...overHttps, 'content-type': 'application/json' },
    body: JSON.stringify({ manifest, files: { 'flow.js': Buffer.from('x'.repeat(65)).toString('base64') } })
  })
  assert.equal(tooLarge.status, 413)
  assert.equal((await tooLarge.json()).code, 'payload_too_large')
})

test('COMPUTE_WORKER_METRICS=false turns the metrics off; unset leaves the default (on)', () => {
  assert.equal(readStandaloneSettings({ COMPUTE_WORKER_METRICS: 'false' }).options.metrics, false)
  assert.equal(readStandaloneSettings({ COMPUTE_WORKER_METRICS: 'true' }).options.metrics, true)
  assert.equal(readStandaloneSettings({}).options.metrics, undefined)
  assert.throws(() => readStandaloneSettings({ COMPUTE_WORKER_METRICS: 'sometimes' }), /COMPUTE_WORKER_METRICS must be true or false/)
})

test('tracing is off unless OTEL_* configure an exporter', () => {
  const tracing = (env: Record<string, string>) => readStandaloneSettings(env).tracing
  assert.equal(tracing({}), undefined)
  assert.equal(tracing({ OTEL_SERVICE_NAME: 'worker-1' }), undefined)
  assert.deepEqual(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), { exporters: ['otlp'], protocol: 'http/protobuf' })
  assert.deepEqual(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), { exporters: ['otlp'], protocol: 'http/json' })
  assert.deepEqual(tracing({ OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), { exporters: ['otlp', 'console'], protocol: 'http/json' })
  assert.equal(tracing({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), undefined)
  assert.equal(tracing({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), undefined)
  assert.throws(() => tracing({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER must list otlp, console or none, got "zipkin"/)
  assert.throws(() => tracing({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/)
})
