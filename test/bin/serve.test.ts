import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, SEED_KEYS, bearer, tempDir } from '../helper.js'
import { runBin, startStandalone } from '../standalone.js'

async function waitFor (condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(20)
}

async function envFor (t: import('node:test').TestContext): Promise<Record<string, string>> {
  const dir = await tempDir(t)
  return {
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS),
    COMPUTE_WORKER_COMPUTE: 'none'
  }
}

test('the standalone server starts on the embedded defaults and answers /v1/health', async (t) => {
  const env = await envFor(t)
  const worker = await startStandalone(t, env)
  const res = await fetch(`${worker.url}/v1/health`)
  assert.equal(res.status, 200)
  const body = await res.json()
  assert.equal(body.world.target, 'local')
  assert.equal(body.database, 'ok')
  assert.ok(existsSync(env.COMPUTE_WORKER_SQLITE_PATH))
  assert.ok(existsSync(env.WORKFLOW_LOCAL_DATA_DIR))
  const keyed = await fetch(`${worker.url}/v1/nope`, { headers: bearer(KEYS.admin) })
  assert.equal(keyed.status, 404)
  assert.equal(worker.lines.join('\n').includes(KEYS.admin), false)
})

test('SIGTERM shuts the standalone server down gracefully with exit code 0', async (t) => {
  const worker = await startStandalone(t, await envFor(t))
  // A keep-alive connection left open must not hold the shutdown.
  const res = await fetch(`${worker.url}/v1/health`, { headers: { connection: 'keep-alive' } })
  assert.equal(res.status, 200)
  const started = Date.now()
  worker.child.kill('SIGTERM')
  const { code } = await worker.exited
  assert.equal(code, 0)
  assert.ok(Date.now() - started < 5_000, 'shut down promptly')
  assert.ok(worker.lines.some((line) => /shutting down/.test(line)))
})

test('requests in flight at SIGTERM finish, and their keep-alive connections do not hold the shutdown', async (t) => {
  const worker = await startStandalone(t, await envFor(t))
  const headers = { ...bearer(KEYS.admin), 'content-type': 'application/json' }
  // A manifest-only deployment: with COMPUTE_WORKER_COMPUTE=none the run waits, and so does its stream.
  const { manifest } = await buildFixtureApp('A')
  const deployment = await (await fetch(`${worker.url}/v1/deployments`, { method: 'POST', headers, body: JSON.stringify({ manifest }) })).json()
  const trigger = await fetch(`${worker.url}/v1/runs`, {
    method: 'POST', headers: { ...headers, 'idempotency-key': 'in-flight' }, body: JSON.stringify({ workflowName: 'approval', input: ['x'], deploymentId: deployment.id })
  })
  assert.equal(trigger.status, 202)
  const runId = (await trigger.json()).runId
  // The status and headers arrive before the first chunk (a waiting run has none).
  const stream = await fetch(`${worker.url}/v1/runs/${runId}/stream`, { headers: { ...headers, accept: 'application/x-ndjson' } })
  assert.equal(stream.status, 200)

  // A request whose body is still arriving when the close begins: answered afterwards, on a
  // keep-alive connection that then sits idle for Fastify's keepAliveTimeout (72 s).
  const agent = new http.Agent({ keepAlive: true })
  t.after(() => { agent.destroy() })
  const upload = http.request(`${worker.url}/v1/runs/${runId}/cancel`, { method: 'POST', agent, headers: { ...headers, 'content-length': '2' } })
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => { upload.on('response', resolve).on('error', reject) })
  upload.write('{')
  await sleep(200)
  worker.child.kill('SIGTERM')
  await waitFor(() => worker.lines.some((line) => /shutting down/.test(line)))
  upload.end('}')
  const response = await answered
  response.resume()
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers.connection, 'keep-alive')
  // The stream ends without an `end` frame, so its client knows to reconnect.
  assert.equal((await stream.text()).includes('"end":true'), false)
  // Held open, the close was cut at the 10 s grace with exit code 1.
  assert.equal((await worker.exited).code, 0, worker.lines.join('\n'))
})

test('SIGINT also exits 0', async (t) => {
  const worker = await startStandalone(t, await envFor(t))
  worker.child.kill('SIGINT')
  assert.equal((await worker.exited).code, 0)
})

test('the strict remote guard stops a production start on the wrong World, naming both values', async (t) => {
  const env = await envFor(t)
  const { code, output } = await runBin({ ...env, NODE_ENV: 'production', COMPUTE_WORKER_EXPECTED_TARGET_WORLD: '@workflow/world-postgres' })
  assert.notEqual(code, 0)
  assert.match(output, /@workflow\/world-postgres/)
  assert.match(output, /"local"/)
})

test('the strict remote guard lets production start on the expected World', async (t) => {
  const env = await envFor(t)
  const worker = await startStandalone(t, { ...env, NODE_ENV: 'production', COMPUTE_WORKER_EXPECTED_TARGET_WORLD: 'local' })
  assert.equal((await fetch(`${worker.url}/v1/health`)).status, 200)
})

test('bad settings stop start-up with a message naming the variable', async (t) => {
  const env = await envFor(t)
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ COMPUTE_WORKER_API_KEYS: '[{' }, /COMPUTE_WORKER_API_KEYS must be JSON/],
    [{ COMPUTE_WORKER_API_KEYS: '[{"key":"short","scopes":[]}]' }, /seedApiKeys\[0\]\.key/],
    [{ COMPUTE_WORKER_API_KEYS: '[{"key":"long-enough-key-000001","scopes":["root"]}]' }, /seedApiKeys\[0\]\.scopes/],
    [{ COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE: 'lots' }, /COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE/],
    [{ COMPUTE_WORKER_REQUIRE_HTTPS: 'maybe' }, /COMPUTE_WORKER_REQUIRE_HTTPS/],
    [{ COMPUTE_WORKER_COMPUTE: 'gpu' }, /COMPUTE_WORKER_COMPUTE/],
    [{ PORT: '99999' }, /PORT/],
    [{ COMPUTE_WORKER_WEBHOOKS: '{"gh":' }, /COMPUTE_WORKER_WEBHOOKS must be JSON/],
    [{ COMPUTE_WORKER_WEBHOOKS: '{"gh":{"scheme":"gitlab","secret":"x"}}' }, /webhooks\.gh\.scheme/]
  ]
  // Each case is a process of its own, started together.
  const answers = await Promise.all(cases.map(async ([override]) => await runBin({ ...env, ...override })))
  cases.forEach(([override, message], i) => {
    const { code, output } = answers[i]
    assert.equal(code, 1, JSON.stringify(override))
    assert.match(output, message)
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace for a settings error')
  })
})

test('an unknown command exits 2 with the usage', async () => {
  const { code, output } = await runBin({}, ['frobnicate'])
  assert.equal(code, 2)
  assert.match(output, /Usage: compute-worker/)
})

test('COMPUTE_WORKER_WEBHOOKS configures provider webhooks of the standalone server', async (t) => {
  const { createHmac } = await import('node:crypto')
  const env = await envFor(t)
  const worker = await startStandalone(t, {
    ...env,
    COMPUTE_WORKER_WEBHOOKS: JSON.stringify({ github: { scheme: 'github', secret: 'env-secret', trigger: { workflowName: 'greet' } } })
  })
  const body = '{"zen":"ok"}'
  const signature = 'sha256=' + createHmac('sha256', 'env-secret').update(body).digest('hex')
  const send = (sig: string) => fetch(`${worker.url}/v1/webhooks/github`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-delivery': 'env-1', 'x-hub-signature-256': sig }
  })
  const unsigned = await send('sha256=' + '0'.repeat(64))
  assert.equal(unsigned.status, 401)
  const verified = await send(signature)
  assert.equal(verified.status, 409, 'verified, then refused: nothing is deployed yet')
  assert.equal((await verified.json()).code, 'no_active_deployment')
})
