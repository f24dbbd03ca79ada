import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createComputeWorker } from '../fetch.js'
import { buildComputeWorkerApp } from '../server.js'
import { StrictRemoteGuardError, enforceStrictRemoteGuard } from '../lib/strict-guard.js'
import { testOptions } from './helper.js'

function withNodeEnv (t: import('node:test').TestContext, value: string | undefined): void {
  const before = process.env.NODE_ENV
  if (value === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = value
  t.after(() => {
    if (before === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = before
  })
}

test('production with a mismatched target: the factories throw, naming both values', async (t) => {
  withNodeEnv(t, 'production')
  const { options } = await testOptions(t, { targetWorld: 'local', expectedTargetWorld: '@workflow/world-postgres' })
  assert.throws(() => createComputeWorker(options), (error: Error) =>
    error instanceof StrictRemoteGuardError && /@workflow\/world-postgres/.test(error.message) && /"local"/.test(error.message))
  assert.throws(() => buildComputeWorkerApp(options), StrictRemoteGuardError)
})

test('production with the expected target starts', async (t) => {
  withNodeEnv(t, 'production')
  const { options } = await testOptions(t, { targetWorld: 'local', expectedTargetWorld: 'local' })
  const handler = createComputeWorker(options)
  t.after(() => handler.close())
  const res = await handler(new Request('http://worker.test/v1/health'))
  assert.equal(res.status, 200)
})

test('outside production the guard does not apply; production without an expectation only warns', async (t) => {
  withNodeEnv(t, 'development')
  const { options } = await testOptions(t, { targetWorld: 'local', expectedTargetWorld: 'other' })
  const app = buildComputeWorkerApp(options)
  await app.close()

  const warnings: string[] = []
  enforceStrictRemoteGuard({ nodeEnv: 'production', expectedTargetWorld: undefined, targetWorld: 'local', warn: (m) => warnings.push(m) })
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /COMPUTE_WORKER_EXPECTED_TARGET_WORLD/)
})

test('the target defaults to WORKFLOW_TARGET_WORLD', async (t) => {
  withNodeEnv(t, 'production')
  const before = process.env.WORKFLOW_TARGET_WORLD
  process.env.WORKFLOW_TARGET_WORLD = '@workflow/world-postgres'
  t.after(() => { if (before === undefined) delete process.env.WORKFLOW_TARGET_WORLD; else process.env.WORKFLOW_TARGET_WORLD = before })
  const { options } = await testOptions(t, { expectedTargetWorld: 'local' })
  assert.throws(() => buildComputeWorkerApp(options), /"@workflow\/world-postgres"/)
})
