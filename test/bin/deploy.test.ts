import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { startNodeComputeWorkerServer } from '../../server.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, bearer, tempDir, testOptions } from '../helper.js'
import { runBin } from '../standalone.js'

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
  assert.match(refused.output, /403 forbidden/)
  assert.doesNotMatch(refused.output, /\n\s+at /)

  const empty = await runBin({ COMPUTE_WORKER_URL: server.url, COMPUTE_WORKER_API_KEY: KEYS.deployWrite }, ['deploy', await tempDir(t)])
  assert.equal(empty.code, 1)
  assert.match(empty.output, /no manifest\.json/)

  const noUrl = await runBin({ COMPUTE_WORKER_API_KEY: KEYS.deployWrite }, ['deploy', fixture.dir])
  assert.equal(noUrl.code, 1)
  assert.match(noUrl.output, /COMPUTE_WORKER_URL/)
})
