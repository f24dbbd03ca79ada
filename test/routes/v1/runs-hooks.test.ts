import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createInProcessCompute } from '../../../lib/compute/index.js'
import { eventually } from '../../compute/helper.js'
import { KEYS, bearer, build } from '../../helper.js'
import { deployFixture, triggerRun, waitForRun } from '../../public-lane.js'

const finished = (run: { status: string }) => ['completed', 'failed', 'cancelled'].includes(run.status)

// The routes the dashboard reads a run with: its hooks (no tokens), a resume by hook id, its
// input decoded, its error's stack.
test('a run\'s hooks, resumed by id; its input and its error as GET /v1/runs/:id shows them', async (t) => {
  const { app } = await build(t, { compute: createInProcessCompute() })
  await deployFixture(app)
  const trigger = async (body: Record<string, unknown>): Promise<string> => {
    const res = await triggerRun(app, body)
    assert.equal(res.statusCode, 202, res.body)
    return res.json().runId
  }
  const hooksOf = async (runId: string, key: string = KEYS.runsRead) =>
    await app.inject({ url: `/v1/runs/${runId}/hooks`, headers: bearer(key) })

  await t.test('GET /v1/runs/:id/hooks lists the waiting hook without its token; resume by id finishes the run', async () => {
    const runId = await trigger({ workflowName: 'approval', input: ['hooks-1'] })
    const hooks = await eventually(async () => {
      const page = (await hooksOf(runId)).json()
      return page.data.length > 0 ? page : undefined
    })
    assert.equal(hooks.data.length, 1)
    const [hook] = hooks.data
    assert.deepEqual(Object.keys(hook).sort(), ['createdAt', 'hookId', 'isWebhook', 'runId'])
    assert.equal(hook.runId, runId)
    assert.equal(hook.isWebhook, false)
    assert.doesNotMatch(JSON.stringify(hooks), /approval:hooks-1/, 'the token never leaves')

    assert.equal((await hooksOf(runId, KEYS.runsWrite)).statusCode, 403)
    const url = `/v1/runs/${runId}/hooks/${hook.hookId}/resume`
    const refused = await app.inject({ method: 'POST', url, headers: bearer(KEYS.runsRead), payload: { payload: {} } })
    assert.equal(refused.statusCode, 403)
    const res = await app.inject({ method: 'POST', url, headers: bearer(KEYS.runsWrite), payload: { payload: { approved: true, by: 'ui' } } })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { runId, hookId: hook.hookId })
    const run = await waitForRun(app, runId, finished)
    assert.deepEqual(run.output, { orderId: 'hooks-1', approved: { approved: true, by: 'ui' } })
    assert.deepEqual(run.input, ['hooks-1'])

    const audit = (await app.auditLog.recent(5)).find((row) => row.action === 'runs.resume')
    assert.equal(audit?.target, hook.hookId)
    assert.equal(audit?.metadata.runId, runId)
    assert.equal(audit?.outcome, 'success')
  })

  await t.test('a hook id of another run, an unknown one, or a finished run\'s is 404 hook_not_found', async () => {
    const waiting = await trigger({ workflowName: 'approval', input: ['hooks-2'] })
    const other = await trigger({ workflowName: 'approval', input: ['hooks-3'] })
    const [hook] = await eventually(async () => {
      const page = (await hooksOf(waiting)).json()
      return page.data.length > 0 ? page.data : undefined
    })
    await eventually(async () => (await hooksOf(other)).json().data.length > 0 ? true : undefined)
    for (const url of [`/v1/runs/${other}/hooks/${hook.hookId}/resume`, `/v1/runs/${waiting}/hooks/hook_01JD8Q9C5V1B7N3M9K5J1H7G3F/resume`]) {
      const res = await app.inject({ method: 'POST', url, headers: bearer(KEYS.runsWrite), payload: { payload: 1 } })
      assert.equal(res.statusCode, 404, url)
      assert.equal(res.json().code, 'hook_not_found')
    }
    assert.equal((await app.inject({ method: 'POST', url: `/v1/runs/${waiting}/cancel`, headers: bearer(KEYS.runsWrite) })).statusCode, 200)
    const afterCancel = await app.inject({ method: 'POST', url: `/v1/runs/${waiting}/hooks/${hook.hookId}/resume`, headers: bearer(KEYS.runsWrite), payload: {} })
    assert.equal(afterCancel.statusCode, 404)
    const bad = await app.inject({ method: 'POST', url: `/v1/runs/${waiting}/hooks/${hook.hookId}/resume`, headers: bearer(KEYS.runsWrite), payload: { payload: 1, token: 'x' } })
    assert.equal(bad.statusCode, 400)
    assert.equal((await hooksOf('wrun_unknown')).json().code, 'run_not_found')
  })

  await t.test('a failed run\'s error carries its stack; input is decoded for every status', async () => {
    const runId = await trigger({ workflowName: 'fatal', input: ['broken'] })
    const run = await waitForRun(app, runId, finished)
    assert.equal(run.status, 'failed')
    assert.match(run.error.message, /fatal: broken/)
    assert.match(run.error.stack, /failFatallyStep|fatal: broken/)
    assert.deepEqual(run.input, ['broken'])
    const bare = (await app.inject({ url: `/v1/runs/${runId}?resolveData=none`, headers: bearer(KEYS.runsRead) })).json()
    assert.equal(bare.input, undefined)
    const listed = (await app.inject({ url: '/v1/runs', headers: bearer(KEYS.runsRead) })).json()
    assert.ok(listed.data.every((item: Record<string, unknown>) => item.input === undefined && item.output === undefined))
  })
})
