import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { startNodeComputeWorkerServer } from '../../server.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, bearer, tempDir, testOptions } from '../helper.js'
import { runBin } from '../standalone.js'

/** A URL nothing listens on: a port the system gave out, then closed. */
async function urlOfClosedPort (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

test('compute-worker deploy uploads a build folder and activates it', async (t) => {
  const { options } = await testOptions(t)
  const server = await startNodeComputeWorkerServer({ ...options, port: 0 })
  t.after(() => server.close())
  const fixture = await buildFixtureApp()
  const projectRoot = join(fixture.dir, '..', '..', '..')
  const env = { COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: KEYS.deployWrite }

  const { code, output } = await runBin(env, ['deploy', projectRoot, '--activate', '--json', '--label', 'gitSha=abc123'])
  assert.equal(code, 0, output)
  const deployment = JSON.parse(output)
  assert.equal(deployment.active, true)
  assert.deepEqual(deployment.labels, { gitSha: 'abc123' })
  assert.deepEqual(deployment.files.map((file: any) => file.name), ['flow.js', 'step.js', 'webhook.js'])
  assert.ok(deployment.workflows.includes('workflow//./workflows/demo//greet'))
  const active = await server.app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })
  assert.equal(active.json().id, deployment.id)

  // The v1 folder itself works too; without --activate the pointer stays; human output by default.
  const plain = await runBin({}, ['deploy', fixture.dir, '--url', server.url, '--api-key', KEYS.deployWrite])
  assert.equal(plain.code, 0, plain.output)
  assert.match(plain.output, /^deployment dpl_\w+\n {2}digest: {4}sha256:[0-9a-f]{64}/)
  assert.equal((await server.app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })).json().id, deployment.id)
})

test('compute-worker deploy explains failures without a stack trace', async (t) => {
  const { options } = await testOptions(t)
  const server = await startNodeComputeWorkerServer({ ...options, port: 0 })
  t.after(() => server.close())
  const fixture = await buildFixtureApp()

  const refused = await runBin({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: KEYS.deployRead }, ['deploy', fixture.dir])
  assert.equal(refused.code, 1)
  assert.match(refused.output, /upload failed: 403 forbidden: This API key lacks the scope deploy:write \(correlation id [\w-]+\)/)
  assert.doesNotMatch(refused.output, /\n\s+at /)

  const empty = await runBin({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: KEYS.deployWrite }, ['deploy', await tempDir(t)])
  assert.equal(empty.code, 1)
  assert.match(empty.output, /no manifest\.json/)

  const closedUrl = await urlOfClosedPort()
  const unreachable = await runBin({ COMPUTE_WORKER_URL: closedUrl, COMPUTE_WORKER_API_KEY: KEYS.deployWrite }, ['deploy', fixture.dir])
  assert.equal(unreachable.code, 1)
  assert.match(unreachable.output, new RegExp(`cannot reach ${closedUrl}: .*ECONNREFUSED`))
  assert.doesNotMatch(unreachable.output, /\n\s+at /)

  const noUrl = await runBin({ COMPUTE_WORKER_API_KEY: KEYS.deployWrite }, ['deploy', fixture.dir])
  assert.equal(noUrl.code, 1)
  assert.match(noUrl.output, /COMPUTE_WORKER_URL/)
})
