import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { computeWorkerPlugin } from '../../../app.js'
import { OptionsError, resolveOptions } from '../../../lib/options.js'
import { dropQueueDeliveries } from '../../fixture-executor.js'
import { KEYS, SEED_KEYS, bearer, build, testOptions, until } from '../../helper.js'
import { deployFixture, triggerRun } from '../../public-lane.js'
import { csrfOf, getPage, postForm, signIn } from './helper.js'

async function workerWithRuns (t: import('node:test').TestContext, overrides = {}) {
  const { app } = await build(t, overrides)
  dropQueueDeliveries(app.workflowWorld)
  const deployment = await deployFixture(app, { files: false })
  const other = await deployFixture(app, { files: false, activate: false })
  const res = await triggerRun(app, { workflowName: 'greet', input: ['ui'] })
  assert.equal(res.statusCode, 202, res.body)
  return { app, deployment, other, runId: res.json().runId as string }
}

test('what a page shows and offers follows the key\'s scopes exactly', async (t) => {
  const { app, runId, other } = await workerWithRuns(t)

  const reader = await signIn(app, KEYS.runsRead)
  const runs = await getPage(app, '/ui/runs', reader.cookie)
  assert.equal(runs.statusCode, 200)
  assert.match(runs.body, new RegExp(`data-run-id="${runId}"`))
  assert.match(runs.body, /<nav><a href="\/ui\/runs" aria-current="page">Runs<\/a><a href="\/ui\/worker">Worker<\/a><\/nav>/)
  const run = await getPage(app, `/ui/runs/${runId}`, reader.cookie)
  assert.equal(run.statusCode, 200)
  assert.match(run.body, /<h1>greet <span class="status status-pending">pending<\/span><\/h1>/)
  assert.match(run.body, /&quot;ui&quot;/, 'the input, decoded')
  assert.doesNotMatch(run.body, /Cancel run|class="resume"/, 'a runs:read key sees no buttons')
  assert.doesNotMatch(run.body, /href="\/ui\/deployments\//, 'nor links to pages it cannot read')
  const deployments = await getPage(app, '/ui/deployments', reader.cookie)
  assert.equal(deployments.statusCode, 403)
  assert.match(deployments.body, /This API key lacks the scope deploy:read/, 'the API\'s own refusal, as a page')
  assert.equal((await getPage(app, '/ui/', reader.cookie)).headers.location, '/ui/runs')

  const operator = await signIn(app, KEYS.admin)
  const full = await getPage(app, `/ui/runs/${runId}`, operator.cookie)
  assert.match(full.body, /Cancel run/)
  assert.match(full.body, /href="\/ui\/deployments\//)
  const list = await getPage(app, '/ui/deployments', operator.cookie)
  assert.match(list.body, new RegExp(`action="/ui/deployments/${other.id}/activate"`), 'activate, for the inactive one')
  assert.equal((list.body.match(/>Activate</g) ?? []).length, 1)

  const deployReader = await signIn(app, KEYS.deployRead)
  assert.equal((await getPage(app, '/ui/', deployReader.cookie)).headers.location, '/ui/deployments')
  const readOnly = await getPage(app, '/ui/deployments', deployReader.cookie)
  assert.equal(readOnly.statusCode, 200)
  assert.doesNotMatch(readOnly.body, />Activate</)
  assert.equal((await getPage(app, '/ui/runs', deployReader.cookie)).statusCode, 403)

  const nothing = await signIn(app, KEYS.none)
  assert.equal((await getPage(app, '/ui/', nothing.cookie)).headers.location, '/ui/worker', 'the worker page needs no scope')
  assert.equal((await getPage(app, '/ui/audit', nothing.cookie)).statusCode, 403)
})

test('actions go through the public routes as the session\'s key, with its audit rows; CSRF attempts are refused', async (t) => {
  const { app, runId, other } = await workerWithRuns(t)
  const { cookie, csrf } = await signIn(app, KEYS.admin)

  for (const [form, headers] of [
    [{}, {}],
    [{ _csrf: 'x'.repeat(43) }, {}],
    [{ _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }]
  ] as const) {
    const refused = await postForm(app, `/ui/runs/${runId}/cancel`, form, cookie, headers)
    assert.equal(refused.statusCode, form._csrf === undefined ? 400 : 403, JSON.stringify(form))
  }
  const otherSession = await signIn(app, KEYS.runsWrite)
  assert.equal((await postForm(app, `/ui/runs/${runId}/cancel`, { _csrf: otherSession.csrf }, cookie)).statusCode, 403, 'another session\'s token')
  assert.equal((await app.inject({ url: `/v1/runs/${runId}`, headers: bearer(KEYS.runsRead) })).json().status, 'pending')

  const cancelled = await postForm(app, `/ui/runs/${runId}/cancel`, { _csrf: csrf }, cookie, { 'x-workflow-correlation-id': 'ui-cancel-1' })
  assert.equal(cancelled.statusCode, 303, cancelled.body)
  assert.equal(cancelled.headers.location, `/ui/runs/${runId}?done=cancelled`)
  assert.match((await getPage(app, String(cancelled.headers.location), cookie)).body, /Run cancelled\.[\s\S]*status-cancelled/)
  const [row] = (await app.auditLog.findByCorrelationId('ui-cancel-1'))
  assert.equal(row.action, 'runs.cancel')
  assert.equal(row.outcome, 'success')
  assert.equal(row.actorKeyId, (await app.apiKeys.list()).find((key) => key.name === 'admin')!.id)

  const again = await postForm(app, `/ui/runs/${runId}/cancel`, { _csrf: csrf }, cookie)
  assert.equal(again.statusCode, 409)
  assert.match(again.body, /run_already_finished/)

  const activated = await postForm(app, `/ui/deployments/${other.id}/activate`, { _csrf: csrf }, cookie)
  assert.equal(activated.statusCode, 303)
  assert.equal((await app.inject({ url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })).json().id, other.id)

  const reader = await signIn(app, KEYS.runsRead)
  const forbidden = await postForm(app, `/ui/deployments/${other.id}/activate`, { _csrf: reader.csrf }, reader.cookie)
  assert.equal(forbidden.statusCode, 403, 'a form the page did not offer is refused by the route\'s own scope')
  assert.match(forbidden.body, /deploy:write/)

  const badJson = await postForm(app, `/ui/runs/${runId}/hooks/hook_01JD8Q9C5V1B7N3M9K5J1H7G3F/resume`, { _csrf: csrf, payload: '{nope' }, cookie)
  assert.equal(badJson.statusCode, 400)
  assert.match(badJson.body, /The payload is not JSON/)
})

test('the pages\' own calls are not counted against the key\'s rate limit; the pages are; assets are not', async (t) => {
  const { app } = await workerWithRuns(t, { seedApiKeys: [...SEED_KEYS, { key: 'test-key-limited-0000000000000000001', scopes: ['runs:read'], rateLimitPerMinute: 4 }] })
  const { cookie } = await signIn(app, 'test-key-limited-0000000000000000001')
  // signIn loaded the worker page: one of four.
  for (let i = 0; i < 3; i++) assert.equal((await getPage(app, '/ui/runs', cookie)).statusCode, 200, `page ${i + 2}`)
  const limited = await getPage(app, '/ui/runs', cookie)
  assert.equal(limited.statusCode, 429)
  assert.match(limited.body, /rate_limited/)
  for (let i = 0; i < 10; i++) assert.equal((await getPage(app, '/ui/assets/htmx.min.js', cookie)).statusCode, 200)
})

test('errors are a page for a browser and the worker\'s JSON for anyone else; a delegation ticket from the network is nothing', async (t) => {
  const { app } = await build(t)
  const { cookie } = await signIn(app, KEYS.admin)
  const asPage = await getPage(app, '/ui/runs/not%20an%20id', cookie)
  assert.equal(asPage.statusCode, 400)
  assert.match(String(asPage.headers['content-type']), /^text\/html/)
  assert.match(asPage.body, /validation_error/)
  const asJson = await app.inject({ url: '/ui/runs/not%20an%20id', headers: { cookie, accept: 'application/json' } })
  assert.equal(asJson.statusCode, 400)
  assert.equal(asJson.json().code, 'validation_error')
  assert.ok(asJson.json().correlationId)
  const missing = await getPage(app, '/ui/runs/wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F', cookie)
  assert.equal(missing.statusCode, 404)
  assert.match(missing.body, /run_not_found/)
  assert.equal((await getPage(app, '/ui/no/such/page', cookie)).statusCode, 404)
  for (const done of ['constructor', '<b>owned</b>', 'toString']) {
    assert.doesNotMatch((await getPage(app, `/ui/worker?done=${encodeURIComponent(done)}`, cookie)).body, /class="notice"/, 'only the fixed notices')
  }
  const status = await getPage(app, '/ui/runs?status=bogus', cookie)
  assert.equal(status.statusCode, 400, 'filters are validated by the route they are passed to')

  const forged = await app.inject({ url: '/v1/runs', headers: { 'x-compute-worker-acting-as': 'guess' } })
  assert.equal(forged.statusCode, 401)
})

test('ui: false serves no dashboard', async (t) => {
  const { app } = await build(t, { ui: false })
  const res = await getPage(app, '/ui/login')
  assert.equal(res.statusCode, 404)
  assert.equal(res.json().code, 'not_found')
  assert.equal(app.hasDecorator('uiSessions'), false)
})

test('mounted under a prefix, the dashboard is at <prefix>/ui and calls <prefix>/v1', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  host.get('/', async () => ({ host: true }))
  await host.register(computeWorkerPlugin, { ...options, prefix: '/compute' })
  t.after(() => host.close())
  await host.ready()
  const { cookie } = await signIn(host, KEYS.admin, '/compute/ui')
  const runs = await getPage(host, '/compute/ui/runs', cookie)
  assert.equal(runs.statusCode, 200, runs.body)
  assert.match(runs.body, /href="\/compute\/ui\/assets\/ui\.css\?v=/)
  assert.match(runs.body, /action="\/compute\/ui\/logout"/)
  assert.equal((await getPage(host, '/compute/ui/assets/ui.css')).statusCode, 200)
  assert.equal((await getPage(host, '/ui/login')).statusCode, 404)
  const out = await postForm(host, '/compute/ui/logout', { _csrf: csrfOf(runs.body) }, cookie)
  assert.equal(out.headers.location, '/compute/ui/login?done=signed_out')
})

test('the page\'s output stream is the public stream route\'s, re-framed; a reader going away releases the World\'s reader', async (t) => {
  const { options } = await testOptions(t)
  const world = options.world
  const readers = { opened: 0, cancelled: 0 }
  const readFromStream = world.readFromStream.bind(world)
  // The real World, counting its readers.
  world.readFromStream = async (...args: Parameters<typeof world.readFromStream>) => {
    const source = await readFromStream(...args)
    readers.opened++
    const reader = source.getReader()
    return new ReadableStream({
      pull: async (controller) => {
        const { done, value } = await reader.read()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      cancel: async (reason) => {
        readers.cancelled++
        await reader.cancel(reason)
      }
    })
  }
  const { app } = await build(t, { world })
  dropQueueDeliveries(app.workflowWorld)
  await deployFixture(app, { files: false })
  const runId = (await triggerRun(app, { workflowName: 'greet', input: ['stream'] })).json().runId
  const { cookie } = await signIn(app, KEYS.runsRead)

  const aborted = new AbortController()
  const res = await app.inject({ url: `/ui/runs/${runId}/stream`, headers: { cookie, accept: 'text/event-stream' }, payloadAsStream: true, signal: aborted.signal })
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/event-stream/)
  await until(async () => readers.opened === 1 ? true : undefined, 'the World reader')
  aborted.abort()
  res.stream().on('error', () => {})
  await until(async () => readers.cancelled === 1 ? true : undefined, 'the World reader to be released')
})

test('the ui option is checked at start-up and names what is wrong', () => {
  const world = { queue: () => {}, events: { create: () => {} }, runs: { get: () => {} } } as never
  assert.deepEqual(resolveOptions({ world }).ui, { sessionLimits: { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 } })
  assert.equal(resolveOptions({ world, ui: false }).ui, false)
  assert.deepEqual(resolveOptions({ world, ui: { sessionIdleMinutes: 5 } }).ui, { sessionLimits: { idleMs: 5 * 60_000, absoluteMs: 12 * 3_600_000 } })
  assert.throws(() => resolveOptions({ world, ui: { sessionMaxHours: 0 } }), (error: Error) => error instanceof OptionsError && /"ui\.sessionMaxHours"/.test(error.message))
  assert.throws(() => resolveOptions({ world, ui: 'yes' as never }), (error: Error) => error instanceof OptionsError && /"ui"/.test(error.message))
})
