import assert from 'node:assert/strict'
import { copyFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { RUN_ERROR_CODES } from '@workflow/errors'
import { SPEC_VERSION_CURRENT } from '@workflow/world'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { newUlid } from '../../lib/ulid.js'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, bearer, build } from '../helper.js'
import { deployBuild, deploySources, eventually, runOutput, startRun, workflowId } from './helper.js'

// Deployment code that misbehaves on purpose, next to healthy deployments on the same worker.

const THROWS_AT_LOAD = "throw new Error('this deployment is broken at load')\n"

// A step bundle that kills its thread on its first delivery, then runs the real build.
const CRASHES_ONCE = `
const { existsSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const marker = join(__dirname, 'crashed-once')
if (existsSync(marker)) {
  module.exports = require('./real-step.cjs')
} else {
  const world = globalThis[Symbol.for('@workflow/world//cache')]
  world.createQueueHandler('__wkf_step_', async () => { writeFileSync(marker, ''); process.exit(1) })
  module.exports = {}
}
`

// A workflow bundle that asks for 60 immediate redeliveries of its message and records the
// attempt number it is shown each time.
const COUNTS_ATTEMPTS = `
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')
const world = globalThis[Symbol.for('@workflow/world//cache')]
const seen = []
world.createQueueHandler('__wkf_workflow_', async (message, meta) => {
  seen.push(meta.attempt)
  if (seen.length < 60) return { timeoutSeconds: 0 }
  writeFileSync(join(__dirname, 'attempts.json'), JSON.stringify(seen))
})
module.exports = {}
`

test('misbehaving deployments', async (t) => {
  const [a, b] = await Promise.all([buildFixtureApp('A'), buildFixtureApp('B')])
  const compute = createInProcessCompute()
  const { app, options } = await build(t, { compute })
  const world = app.workflowWorld
  const artifactDir = options.artifactDir!
  await deployBuild(artifactDir, 'dpl_a', a)
  await deployBuild(artifactDir, 'dpl_b', b)

  await t.test('code that throws at load: its deliveries fail (500, retried), others run, the worker stays up', async () => {
    await deploySources(artifactDir, 'dpl_broken', { 'flow.js': THROWS_AT_LOAD })
    const broken = await startRun(world, 'dpl_broken', workflowId(a, 'sum'), [1, 1])
    await eventually(async () => (await compute.health()).failedLoads.includes('dpl_broken') ? true : undefined)

    // The same message as the queue sends it: refused with a 500, which the queue retries.
    const res = await compute.handleDelivery('flow', new Request('http://localhost/.well-known/workflow/v1/flow', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-vqs-queue-name': `__wkf_workflow_${workflowId(a, 'sum')}`,
        'x-vqs-message-id': 'msg_01J00000000000000000000000',
        'x-vqs-message-attempt': '1'
      },
      body: JSON.stringify({ runId: broken })
    }))
    assert.equal(res.status, 500)

    const healthy = await startRun(world, 'dpl_a', workflowId(a, 'sum'), [2, 3])
    assert.deepEqual(await runOutput(world, healthy), { total: 5, variant: 'A' })
    assert.equal((await world.runs.get(broken)).status, 'pending')
    assert.equal((await app.inject({ url: '/v1/health' })).statusCode, 200)
  })

  await t.test('a deployment whose thread dies mid-delivery is restarted; the run completes, others are untouched', async () => {
    const dir = await deployBuild(artifactDir, 'dpl_crashy', a)
    await copyFile(join(dir, 'step.js'), join(dir, 'real-step.cjs'))
    await deploySources(artifactDir, 'dpl_crashy', { 'step.js': CRASHES_ONCE })
    const crashesBefore = (await compute.health()).crashes

    const crashy = await startRun(world, 'dpl_crashy', workflowId(a, 'sum'), [20, 22])
    const meanwhile = await startRun(world, 'dpl_b', workflowId(b, 'greet'), ['eve'])
    assert.equal(await runOutput(world, meanwhile), 'hello eve from B')
    // The step's delivery got a 500 when the thread died and came back 5 s later to a new one.
    assert.deepEqual(await runOutput(world, crashy), { total: 42, variant: 'A' })
    assert.ok((await compute.health()).crashes > crashesBefore)
  })

  await t.test('a redelivery after { timeoutSeconds } counts as a fresh message (attempt 1)', async () => {
    const dir = await deploySources(artifactDir, 'dpl_counter', { 'flow.js': COUNTS_ATTEMPTS })
    // world-local alone would show attempts 1, 2, … 60 and the SDK fails a run past 48.
    await world.queue('__wkf_workflow_counter', { runId: 'wrun_01J00000000000000000000001', runInput: { deploymentId: 'dpl_counter' } } as never)
    const attempts = await eventually(async () => await readFile(join(dir, 'attempts.json'), 'utf8').then(JSON.parse, () => undefined)) as number[]
    assert.equal(attempts.length, 60)
    assert.deepEqual([...new Set(attempts)], [1])
  })

  await t.test('a message no deployment can take fails its run with MAX_DELIVERIES_EXCEEDED after 48 deliveries', async () => {
    // The run as start() records it, on a deployment that is not on disk. No message is queued:
    // its 48th and 49th deliveries are sent by hand, as world-local numbers them.
    const runId = `wrun_${newUlid()}`
    await world.events.create(runId, {
      eventType: 'run_created',
      specVersion: SPEC_VERSION_CURRENT,
      eventData: { deploymentId: 'dpl_gone', workflowName: workflowId(a, 'greet'), input: [], executionContext: {} }
    } as never)
    const deliver = async (endpoint: 'flow' | 'step', attempt: number, message: Record<string, unknown>): Promise<Response> =>
      await compute.handleDelivery(endpoint, new Request(`http://localhost/.well-known/workflow/v1/${endpoint}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-vqs-queue-name': endpoint === 'flow' ? `__wkf_workflow_${workflowId(a, 'greet')}` : '__wkf_step_step//./workflows/demo//greetStep',
          'x-vqs-message-id': `msg_01J000000000000000000000${endpoint === 'flow' ? 'F' : 'S'}${attempt}`,
          'x-vqs-message-attempt': String(attempt)
        },
        body: JSON.stringify(message)
      }))
    // Up to the SDK's limit the queue is asked to retry (the deployment may yet appear) ...
    const step = { workflowName: workflowId(a, 'greet'), workflowRunId: runId, workflowStartedAt: Date.now(), stepId: 'step_01J00000000000000000000001' }
    assert.equal((await deliver('step', 48, step)).status, 500)
    assert.equal((await deliver('flow', 48, { runId })).status, 500)
    assert.equal((await world.runs.get(runId)).status, 'pending')
    // ... past it the message is taken (200) and its run failed, as the SDK fails a run past 48.
    assert.equal((await deliver('flow', 49, { runId })).status, 200)
    const run = await world.runs.get(runId)
    assert.equal(run.status, 'failed')
    assert.equal(run.error?.code, RUN_ERROR_CODES.MAX_DELIVERIES_EXCEEDED)
    assert.match(String(run.error?.message), /after 49 deliveries: deployment "dpl_gone" cannot run here: its files have no flow\.js/)
    // What the run shows names the missing file, never where the server keeps deployments.
    for (const shown of [String(run.error?.message), JSON.stringify((await app.inject({ url: `/v1/runs/${runId}`, headers: bearer(KEYS.runsRead) })).json())]) {
      assert.equal(shown.includes(artifactDir), false, shown)
      assert.equal(shown.includes(options.artifactDir!.split('/').at(-2)!), false, shown)
    }
    // A later message of the failed run is let go too.
    assert.equal((await deliver('step', 49, step)).status, 200)
  })
})
