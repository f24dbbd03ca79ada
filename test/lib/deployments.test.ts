import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeError } from '../../http/errors.js'
import { deploymentBodyLimit, decodeFiles } from '../../lib/deployments/files.js'
import { manifestWorkflows, resolveWorkflow } from '../../lib/deployments/manifest.js'
import { buildFixtureApp } from '../fixtures/build.js'

test('the manifest a real `wf build` writes is accepted and its workflows resolved by id or export name', async () => {
  const { manifest } = await buildFixtureApp()
  const workflows = manifestWorkflows(manifest as any)
  assert.deepEqual(workflows.map((workflow) => workflow.exportName).sort(), ['approval', 'fatal', 'greet', 'manySleeps', 'memoryHog', 'retried', 'sleepChain', 'sleepy', 'streamer', 'sum', 'threadBlocker'])
  assert.equal(resolveWorkflow(workflows, 'greet', 'dpl_x').workflowId, 'workflow//./workflows/demo//greet')
  assert.equal(resolveWorkflow(workflows, 'workflow//./workflows/demo//sum', 'dpl_x').exportName, 'sum')
  assert.throws(() => resolveWorkflow(workflows, 'greetStep', 'dpl_x'), { code: 'workflow_not_found' })
})

test('file decoding: size limit checked before decoding, hashes per file', () => {
  const files = decodeFiles({ 'b.js': Buffer.from('bb').toString('base64'), 'a.js': Buffer.from('a').toString('base64') }, 3)
  assert.deepEqual(files.map((file) => [file.name, file.size]), [['a.js', 1], ['b.js', 2]])
  assert.throws(() => decodeFiles({ 'a.js': Buffer.from('abcd').toString('base64') }, 3), (error) => {
    assert.deepEqual([(error as { code?: string }).code, describeError(error).statusCode], ['payload_too_large', 413])
    return true
  })
  // 64 MiB decoded fits in the route's body limit as base64, with room for the manifest.
  assert.ok(deploymentBodyLimit(64 * 1024 * 1024) > Math.ceil(64 * 1024 * 1024 / 3) * 4)
})
