import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createInProcessCompute } from '../../lib/compute/index.js'
import { KEYS, bearer, build } from '../helper.js'
import { deployFixture, triggerRun, waitForRun } from '../public-lane.js'
import { eventually } from './helper.js'

const finished = (run: { status: string }) => ['completed', 'failed', 'cancelled'].includes(run.status)

// Everything through the public lane: uploads, triggers, resume, cancel and the run stream, on
// runs the in-process executor executes.
test('the public lane drives runs that the in-process executor executes', async (t) => {
  const { app } = await build(t, { compute: createInProcessCompute() })
  const a = await deployFixture(app)
  const b = await deployFixture(app, { variant: 'B', activate: false })
  const trigger = async (body: Record<string, unknown>): Promise<string> => {
    const res = await triggerRun(app, body)
    assert.equal(res.statusCode, 202, res.body)
    return res.json().runId
  }

  await t.test('runs of the active deployment and of a named one, side by side', async () => {
    const [onActive, onB] = await Promise.all([
      trigger({ workflowName: 'sum', input: [1, 2] }),
      trigger({ workflowName: 'sum', input: [3, 4], deploymentId: b.id })
    ])
    const runs = await Promise.all([waitForRun(app, onActive, finished), waitForRun(app, onB, finished)])
    assert.deepEqual(runs.map((run) => [run.deploymentId, run.status, run.output]), [
      [a.id, 'completed', { total: 3, variant: 'A' }],
      [b.id, 'completed', { total: 7, variant: 'B' }]
    ])
  })

  await t.test('POST /v1/runs/resume wakes the run waiting on the hook', async () => {
    const runId = await trigger({ workflowName: 'approval', input: ['order-1'] })
    await eventually(async () => await app.workflowWorld.hooks.getByToken('approval:order-1').catch(() => undefined))
    const res = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:order-1', payload: { approved: false, by: 'api' } } })
    assert.equal(res.statusCode, 200, res.body)
    const run = await waitForRun(app, runId, finished)
    assert.deepEqual(run.output, { orderId: 'order-1', approved: { approved: false, by: 'api' } })
  })

  await t.test('a cancelled run stays cancelled: no delivery revives it', async () => {
    const runId = await trigger({ workflowName: 'approval', input: ['order-2'] })
    await eventually(async () => await app.workflowWorld.hooks.getByToken('approval:order-2').catch(() => undefined))
    const res = await app.inject({ method: 'POST', url: `/v1/runs/${runId}/cancel`, headers: bearer(KEYS.runsWrite) })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().status, 'cancelled')
    const resumed = await app.inject({ method: 'POST', url: '/v1/runs/resume', headers: bearer(KEYS.runsWrite), payload: { token: 'approval:order-2', payload: {} } })
    assert.equal(resumed.statusCode, 404)
    assert.equal((await waitForRun(app, runId, finished)).status, 'cancelled')
  })

  await t.test('the run stream carries what the steps wrote', async () => {
    const runId = await trigger({ workflowName: 'streamer', input: [['one', 'two']] })
    await waitForRun(app, runId, finished)
    const res = await app.inject({ url: `/v1/runs/${runId}/stream`, headers: { ...bearer(KEYS.runsRead), accept: 'application/x-ndjson' } })
    const lines = res.body.trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(lines, [{ index: 0, value: 'one' }, { index: 1, value: 'two' }, { end: true, nextIndex: 2 }])
  })
})
