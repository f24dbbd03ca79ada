import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { hydrateWorkflowArguments } from '@workflow/core/serialization'
import Database from 'better-sqlite3'
import { Webhook } from 'standardwebhooks'
import Stripe from 'stripe'
import { newRunId } from '../../../lib/runs/trigger.js'
import { MIGRATIONS } from '../../../lib/store/sqlite/migrations.js'
import type { WebhookEvent } from '../../../lib/webhooks/receiver.js'
import { dropQueueDeliveries } from '../../fixture-executor.js'
import { build, tempDir, sqliteOf } from '../../helper.js'
import { deployFixture } from '../../public-lane.js'

const GITHUB_SECRET = 'github-secret-1'
const STRIPE_SECRET = 'whsec_stripe_secret_1'
const STRIPE_OLD_SECRET = 'whsec_stripe_secret_0'
const STANDARD_SECRET = 'whsec_' + Buffer.from('standard-secret-0123456789').toString('base64')
const STANDARD_OLD_SECRET = 'whsec_' + Buffer.from('standard-secret-old-000000').toString('base64')

const WEBHOOKS = {
  github: { scheme: 'github', secrets: [GITHUB_SECRET, 'github-secret-0'], trigger: { workflowName: 'greet' } },
  stripe: { scheme: 'stripe', secrets: [STRIPE_SECRET, STRIPE_OLD_SECRET], trigger: { workflowName: 'workflow//./workflows/demo//sum' } },
  acme: { scheme: 'standard', secrets: [STANDARD_SECRET, STANDARD_OLD_SECRET], trigger: { workflowName: 'greet' }, maxBodyBytes: 1024 },
  quiet: { scheme: 'github', secret: 'quiet-secret' },
  roomy: { scheme: 'github', secret: GITHUB_SECRET }
}

async function worker (t: TestContext, extra: Record<string, unknown> = {}, deploy = true) {
  const { app } = await build(t, { webhooks: WEBHOOKS, ...extra })
  dropQueueDeliveries(app.workflowWorld)
  if (deploy) await deployFixture(app, { files: false })
  return app
}

function github (body: string, options: { secret?: string, delivery?: string } = {}) {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': options.delivery ?? 'gh-delivery-1',
    'x-hub-signature-256': 'sha256=' + createHmac('sha256', options.secret ?? GITHUB_SECRET).update(body).digest('hex')
  }
}

function stripe (body: string, options: { secret?: string, timestamp?: number } = {}) {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  return {
    'content-type': 'application/json',
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? STRIPE_SECRET, timestamp })
  }
}

function standard (body: string, options: { secret?: string, id?: string, at?: Date } = {}) {
  const id = options.id ?? 'msg_1'
  const at = options.at ?? new Date()
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? STANDARD_SECRET).sign(id, at, body)
  }
}

async function runInput (app: Awaited<ReturnType<typeof worker>>, runId: string): Promise<unknown[]> {
  const run = await app.workflowWorld.runs.get(runId)
  return await hydrateWorkflowArguments(run.input, runId, undefined) as unknown[]
}

async function auditFor (app: Awaited<ReturnType<typeof worker>>, correlationId: string) {
  return (await app.auditLog.findByCorrelationId(correlationId))
}

test('github: a signed delivery starts the workflow with [payload, { provider, deliveryId, headers }]', async (t) => {
  const app = await worker(t)
  const body = JSON.stringify({ ref: 'refs/heads/main', commits: [{ id: 'abc' }] })
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...github(body), 'x-workflow-correlation-id': 'wh-gh-1' }, payload: body })
  assert.equal(res.statusCode, 202)
  const answer = res.json()
  assert.equal(answer.received, true)
  assert.equal(answer.deliveryId, 'gh-delivery-1')
  assert.match(answer.runId, /^wrun_/)

  const run = await app.workflowWorld.runs.get(answer.runId)
  assert.equal(run.workflowName, 'workflow//./workflows/demo//greet')
  const [payload, meta] = await runInput(app, answer.runId) as [unknown, { provider: string, deliveryId: string, headers: Record<string, string> }]
  assert.deepEqual(payload, { ref: 'refs/heads/main', commits: [{ id: 'abc' }] })
  assert.equal(meta.provider, 'github')
  assert.equal(meta.deliveryId, 'gh-delivery-1')
  assert.equal(meta.headers['x-github-event'], 'push')
  assert.equal(meta.headers['x-hub-signature-256'], undefined, 'signatures are not handed to workflows')

  const [row] = await auditFor(app, 'wh-gh-1')
  assert.equal(row.action, 'webhook.receive')
  assert.equal(row.outcome, 'accepted')
  assert.equal(row.actorKeyId, null)
  assert.equal(row.metadata.runId, answer.runId)
  assert.equal(row.metadata.deliveryId, 'gh-delivery-1')
})

test('github: wrong secret, missing header, tampered body are 401 invalid_signature and start nothing', async (t) => {
  const app = await worker(t)
  const body = JSON.stringify({ zen: 'Keep it logically awesome.' })
  const cases: Array<[string, Record<string, string>, string]> = [
    ['wrong secret', github(body, { secret: 'nope' }), body],
    ['missing header', { 'content-type': 'application/json', 'x-github-delivery': 'd' }, body],
    ['tampered body', github(body), body.replace('awesome', 'awesomer')]
  ]
  for (const [name, headers, payload] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...headers, 'x-workflow-correlation-id': `bad-${name.replaceAll(' ', '-')}` }, payload })
    assert.equal(res.statusCode, 401, name)
    assert.equal(res.json().code, 'invalid_signature', name)
    assert.equal(res.headers['www-authenticate'], undefined, 'no Bearer challenge: the signature is the credential')
    const [row] = await auditFor(app, `bad-${name.replaceAll(' ', '-')}`)
    assert.equal(row.outcome, 'refused', name)
    assert.equal(row.metadata.code, 'invalid_signature', name)
    assert.equal(row.metadata.reason, res.json().reason, name)
    assert.equal(typeof row.metadata.reason, 'string', name)
  }
  const runs = await app.workflowWorld.runs.list({})
  assert.equal(runs.data.length, 0)
})

test('github: the old secret of a rotation still verifies; a repeat delivery gets the first answer and starts nothing', async (t) => {
  const app = await worker(t)
  const body = JSON.stringify({ action: 'opened' })
  const first = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { secret: 'github-secret-0', delivery: 'gh-rot' }), payload: body })
  assert.equal(first.statusCode, 202)
  const again = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...github(body, { delivery: 'gh-rot' }), 'x-workflow-correlation-id': 'wh-dup' }, payload: body })
  assert.equal(again.statusCode, 200)
  assert.deepEqual(again.json(), first.json())
  const [duplicate] = await auditFor(app, 'wh-dup')
  assert.equal(duplicate.outcome, 'duplicate')
  assert.equal(duplicate.metadata.deliveryId, 'gh-rot')
  assert.equal(duplicate.metadata.runId, first.json().runId)
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 1)
})

test('stripe: valid, several v1 values, stale and future timestamps, wrong secret; the event id is the delivery id', async (t) => {
  const app = await worker(t)
  const body = JSON.stringify({ id: 'evt_123', type: 'payment_intent.succeeded', data: { object: { amount: 2000 } } })
  const ok = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', headers: stripe(body), payload: body })
  assert.equal(ok.statusCode, 202)
  assert.equal(ok.json().deliveryId, 'evt_123')
  const [payload] = await runInput(app, ok.json().runId)
  assert.deepEqual(payload, JSON.parse(body))

  const now = Math.floor(Date.now() / 1000)
  for (const [name, headers] of [
    ['stale', stripe(body, { timestamp: now - 301 })],
    ['future', stripe(body, { timestamp: now + 301 })],
    ['wrong secret', stripe(body, { secret: 'whsec_other' })]
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', headers, payload: body })
    assert.equal(res.statusCode, 401, name)
    assert.equal(res.json().code, 'invalid_signature')
  }

  const rotated = JSON.stringify({ id: 'evt_rotated', type: 'charge.succeeded' })
  const byOldSecret = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', headers: stripe(rotated, { secret: STRIPE_OLD_SECRET }), payload: rotated })
  assert.equal(byOldSecret.statusCode, 202, 'the old secret of a rotation still verifies')

  const text = 'id=evt_text'
  const nonJson = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', headers: { ...stripe(text), 'content-type': 'text/plain' }, payload: text })
  assert.equal(nonJson.statusCode, 400)
  assert.equal(nonJson.json().code, 'validation_error')

  // A retry of the same event with a fresh signature is the same delivery.
  const replay = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', headers: stripe(body, { timestamp: now - 5 }), payload: body })
  assert.equal(replay.statusCode, 200)
  assert.equal(replay.json().runId, ok.json().runId)
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 2)
})

test('standard: valid, rotation, stale and future timestamps, tampered body; oversized body is 413', async (t) => {
  const app = await worker(t)
  const body = JSON.stringify({ type: 'user.created', data: { id: 7 } })
  const ok = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: standard(body, { id: 'msg_a' }), payload: body })
  assert.equal(ok.statusCode, 202)
  assert.equal(ok.json().deliveryId, 'msg_a')
  const rotated = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: standard(body, { id: 'msg_b', secret: STANDARD_OLD_SECRET }), payload: body })
  assert.equal(rotated.statusCode, 202)

  for (const [name, headers, payload] of [
    ['stale', standard(body, { id: 'msg_c', at: new Date(Date.now() - 301_000) }), body],
    ['future', standard(body, { id: 'msg_d', at: new Date(Date.now() + 301_000) }), body],
    ['tampered', standard(body, { id: 'msg_e' }), body.replace('7', '8')]
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers, payload })
    assert.equal(res.statusCode, 401, name)
    assert.equal(res.json().code, 'invalid_signature')
  }

  const replayed = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: standard(body, { id: 'msg_a' }), payload: body })
  assert.equal(replayed.statusCode, 200, 'a repeated webhook-id is the same delivery')
  assert.deepEqual(replayed.json(), ok.json())

  const text = 'plain words'
  const nonJson = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: { ...standard(text, { id: 'msg_text' }), 'content-type': 'text/plain' }, payload: text })
  assert.equal(nonJson.statusCode, 400)
  assert.equal(nonJson.json().code, 'validation_error')

  const big = JSON.stringify({ pad: 'x'.repeat(2000) })
  const tooLarge = await app.inject({ method: 'POST', url: '/v1/webhooks/acme', headers: { ...standard(big, { id: 'msg_big' }), 'x-workflow-correlation-id': 'acme-big' }, payload: big })
  assert.equal(tooLarge.statusCode, 413)
  assert.equal(tooLarge.json().code, 'payload_too_large')
  assert.equal((await auditFor(app, 'acme-big'))[0].metadata.reason, 'payload_too_large')
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 2)
})

test('unknown provider 404, non-JSON body 400 after verification, missing delivery id 400, no key needed', async (t) => {
  const app = await worker(t)
  for (const [index, name] of ['gitlab', 'GitHub', 'no.such%20thing'].entries()) {
    const unknown = await app.inject({ method: 'POST', url: `/v1/webhooks/${name}`, headers: { 'content-type': 'application/json', 'x-workflow-correlation-id': `unknown-${index}` }, payload: '{}' })
    assert.equal(unknown.statusCode, 404, name)
    assert.equal(unknown.json().code, 'not_found', name)
    const [row] = await auditFor(app, `unknown-${index}`)
    assert.equal(row.outcome, 'refused', name)
    assert.equal(row.metadata.reason, 'not_found', name)
  }

  const text = 'not json at all'
  const nonJson = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...github(text), 'content-type': 'text/plain' }, payload: text })
  assert.equal(nonJson.statusCode, 400)
  assert.equal(nonJson.json().code, 'validation_error')

  const body = '{"a":1}'
  const { 'x-github-delivery': _omitted, ...noDelivery } = github(body)
  const missingId = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: noDelivery, payload: body })
  assert.equal(missingId.statusCode, 400)

  const noContentType = { ...github(body, { delivery: 'gh-no-type' }) } as Record<string, string>
  delete noContentType['content-type']
  const bare = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: noContentType, payload: body })
  assert.equal(bare.statusCode, 202, 'the body is verified as bytes whatever its content type')
})

test('the route takes bodies up to 5 MiB by default (past Fastify\'s 1 MiB) and refuses larger ones with 413, audited', async (t) => {
  const app = await worker(t)
  const post = async (body: string, delivery: string) => await app.inject({
    method: 'POST', url: '/v1/webhooks/roomy', headers: { ...github(body, { delivery }), 'x-workflow-correlation-id': delivery }, payload: body
  })
  const large = JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) })
  assert.equal((await post(large, 'roomy-4mib')).statusCode, 202)

  const tooLarge = await post(JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }), 'roomy-5mib')
  assert.equal(tooLarge.statusCode, 413)
  assert.equal(tooLarge.json().code, 'payload_too_large')
  const [row] = await auditFor(app, 'roomy-5mib')
  assert.equal(row.outcome, 'refused')
  assert.equal(row.metadata.reason, 'payload_too_large')
  assert.equal(row.metadata.provider, 'roomy')
})

test('a provider without a trigger acknowledges with 202 and starts nothing', async (t) => {
  const app = await worker(t)
  const body = '{"ping":true}'
  const headers = { 'content-type': 'application/json', 'x-github-delivery': 'q1', 'x-hub-signature-256': 'sha256=' + createHmac('sha256', 'quiet-secret').update(body).digest('hex') }
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks/quiet', headers, payload: body })
  assert.equal(res.statusCode, 202)
  assert.deepEqual(res.json(), { received: true, deliveryId: 'q1' })
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 0)
})

test('without an active deployment the delivery is refused (409) and not remembered: the provider retry succeeds later', async (t) => {
  const app = await worker(t, {}, false)
  const body = '{"n":1}'
  const refused = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { delivery: 'gh-later' }), payload: body })
  assert.equal(refused.statusCode, 409)
  assert.equal(refused.json().code, 'no_active_deployment')
  await deployFixture(app, { files: false })
  const retried = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { delivery: 'gh-later' }), payload: body })
  assert.equal(retried.statusCode, 202)
})

test('concurrent copies of one delivery start one run', async (t) => {
  const app = await worker(t)
  const body = '{"burst":true}'
  const results = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { delivery: 'gh-burst' }), payload: body })))
  const statuses = results.map((r) => r.statusCode)
  assert.ok(statuses.every((s) => s === 202 || s === 200 || s === 409), statuses.join(','))
  const runIds = new Set(results.filter((r) => r.statusCode !== 409).map((r) => r.json().runId))
  assert.equal(runIds.size, 1)
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 1)
})

test('onWebhook gets the event (verified or not) and its { status, body } answer is returned', async (t) => {
  const events: WebhookEvent[] = []
  const app = await worker(t, {
    onWebhook: async (event: WebhookEvent) => {
      events.push(event)
      if (event.provider === 'custom') return { status: 200, body: { handled: event.deliveryId } }
      return undefined
    }
  })
  const body = '{"hello":"world"}'
  const configured = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...github(body, { delivery: 'gh-hook' }), 'x-workflow-correlation-id': 'hook-1' }, payload: body })
  assert.equal(configured.statusCode, 202)
  assert.match(configured.json().runId, /^wrun_/)
  assert.equal(events[0].verified, true)
  assert.equal(events[0].provider, 'github')
  assert.equal(events[0].deliveryId, 'gh-hook')
  assert.deepEqual(events[0].body, { hello: 'world' })
  assert.equal(events[0].rawBody.toString(), body)
  assert.equal(events[0].correlationId, 'hook-1')
  assert.equal(events[0].runId, configured.json().runId)

  const custom = await app.inject({ method: 'POST', url: '/v1/webhooks/custom', headers: { 'content-type': 'application/json', 'x-request-id': 'req-9' }, payload: '{"x":1}' })
  assert.equal(custom.statusCode, 200)
  assert.deepEqual(custom.json(), { handled: 'req-9' })
  assert.equal(events[1].verified, false)
  const repeat = await app.inject({ method: 'POST', url: '/v1/webhooks/custom', headers: { 'content-type': 'application/json', 'x-request-id': 'req-9' }, payload: '{"x":1}' })
  assert.equal(repeat.statusCode, 200)
  assert.equal(events.length, 2, 'a repeated delivery is not handed to onWebhook again')

  // Without an id nothing can match a repeat: handled every time, and not recorded.
  const stored = () => (sqliteOf(app).prepare("SELECT count(*) AS n FROM idempotency_records WHERE api_key_id = 'webhook:custom'").get() as { n: number }).n
  assert.equal(stored(), 1)
  for (let i = 0; i < 2; i++) {
    const anonymous = await app.inject({ method: 'POST', url: '/v1/webhooks/custom', headers: { 'content-type': 'application/json' }, payload: '{"x":2}' })
    assert.equal(anonymous.statusCode, 200)
    assert.match(anonymous.json().handled, /^unidentified-/)
  }
  assert.equal(events.length, 4)
  assert.equal(stored(), 1)
})

test('a delivery is one record of the idempotency ledger, owned by its provider, whose answer is the reply', async (t) => {
  const app = await worker(t)
  const body = '{"once":true}'
  const accepted = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { delivery: 'gh-once' }), payload: body })
  assert.equal(accepted.statusCode, 202)
  const records = sqliteOf(app).prepare('SELECT api_key_id, idempotency_key, state, run_id, response_status, response_json FROM idempotency_records').all()
  assert.deepEqual(records, [{
    api_key_id: 'webhook:github',
    idempotency_key: 'gh-once',
    state: 'completed',
    run_id: accepted.json().runId,
    response_status: 202,
    response_json: JSON.stringify({ body: accepted.json(), runId: accepted.json().runId })
  }])
})

test('deliveries recorded before the upgrade to one ledger: a repeat gets the first answer, one cut short by a crash finishes its run', async (t) => {
  const sqlitePath = join(await tempDir(t), 'worker.db')
  const now = Date.now()
  const crashedRunId = newRunId()
  const firstAnswer = { received: true, deliveryId: 'gh-before', runId: 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F' }
  const previous = new Database(sqlitePath)
  for (const migration of MIGRATIONS.slice(0, 2)) previous.exec(migration)
  previous.pragma('user_version = 2')
  const delivery = previous.prepare(`INSERT INTO webhook_deliveries (provider, delivery_id, state, response_status, response_json, run_id, correlation_id, received_at, expires_at)
    VALUES ('github', ?, ?, ?, ?, ?, 'corr', ?, ?)`)
  delivery.run('gh-before', 'completed', 202, JSON.stringify(firstAnswer), firstAnswer.runId, now - 1000, now + 3_600_000)
  delivery.run('gh-crashed', 'in_progress', null, null, null, now - 1000, now + 3_600_000)
  previous.prepare(`INSERT INTO idempotency_records (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_json, lease_until, created_at, updated_at, expires_at)
    VALUES ('webhook:github', 'POST /v1/runs', 'gh-crashed', 'fp', 'in_progress', ?, ?, ?, ?, ?, ?)`)
    .run(crashedRunId, JSON.stringify({ deploymentId: 'dpl_before_upgrade', workflowName: 'workflow//./workflows/demo//greet' }), now + 30_000, now - 1000, now - 1000, now + 3_600_000)
  previous.close()

  const app = await worker(t, { sqlitePath })
  const body = '{"n":1}'
  const repeat = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: { ...github(body, { delivery: 'gh-before' }), 'x-workflow-correlation-id': 'after-upgrade' }, payload: body })
  assert.equal(repeat.statusCode, 200)
  assert.deepEqual(repeat.json(), firstAnswer)
  const [row] = await auditFor(app, 'after-upgrade')
  assert.deepEqual([row.outcome, row.metadata.runId], ['duplicate', firstAnswer.runId])

  const retried = await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: github(body, { delivery: 'gh-crashed' }), payload: body })
  assert.equal(retried.statusCode, 202, retried.body)
  assert.equal(retried.json().runId, crashedRunId, 'the run id fixed before the crash')
  assert.equal((await app.workflowWorld.runs.get(crashedRunId)).deploymentId, 'dpl_before_upgrade', 'on the deployment its plan named')
  assert.equal((await app.workflowWorld.runs.list({})).data.length, 1)
})

test('a webhook configuration error stops start-up with the option named', async (t) => {
  await assert.rejects(build(t, { webhooks: { github: { scheme: 'github' } } }), /webhooks\.github\.secret/)
})
