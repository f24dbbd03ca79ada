import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { dropQueueDeliveries } from '../../fixture-executor.js'
import { KEYS, bearer, build } from '../../helper.js'
import { deployFixture, triggerRun } from '../../public-lane.js'

const SECRET = 'github-secret-audit'

function githubDelivery (body: string, delivery: string, secret = SECRET) {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': 'sha256=' + createHmac('sha256', secret).update(body).digest('hex')
  }
}

test('GET /v1/audit: newest first, by correlation id, key and action, paged; audit:read only', async (t) => {
  const { app } = await build(t, { webhooks: { github: { scheme: 'github', secret: SECRET, trigger: { workflowName: 'greet' } } } })
  dropQueueDeliveries(app.workflowWorld)
  await deployFixture(app, { files: false })
  const triggered = await app.inject({
    method: 'POST',
    url: '/v1/runs',
    headers: { ...bearer(KEYS.triggerWrite), 'idempotency-key': 'audit-1', 'x-workflow-correlation-id': 'chain-audit-1' },
    payload: { workflowName: 'greet', input: ['a'] }
  })
  assert.equal(triggered.statusCode, 202)
  for (let i = 0; i < 3; i++) assert.equal((await triggerRun(app, { workflowName: 'greet', input: [String(i)] })).statusCode, 202)
  const body = JSON.stringify({ ref: 'main' })
  assert.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: githubDelivery(body, 'gh-1'), payload: body })).statusCode, 202)
  assert.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: githubDelivery(body, 'gh-1'), payload: body })).statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/v1/webhooks/github', headers: githubDelivery(body, 'gh-2', 'wrong'), payload: body })).statusCode, 401)

  const audit = async (query: string, key: string = KEYS.auditRead) => await app.inject({ url: `/v1/audit${query}`, headers: bearer(key) })

  const all = await audit('')
  assert.equal(all.statusCode, 200, all.body)
  const ids = all.json().data.map((row: { id: number }) => row.id)
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first')

  const chain = (await audit('?correlationId=chain-audit-1')).json()
  assert.equal(chain.data.length, 1)
  assert.equal(chain.data[0].action, 'runs.trigger')
  assert.equal(chain.data[0].metadata.runId, triggered.json().runId)
  assert.equal(chain.hasMore, false)

  const triggerKey = (await app.apiKeys.list()).find((key) => key.name === 'trigger')!.id
  const byKey = (await audit(`?actorKeyId=${triggerKey}&action=runs.trigger`)).json()
  assert.equal(byKey.data.length, 4)
  assert.ok(byKey.data.every((row: { actorKeyId: string }) => row.actorKeyId === triggerKey))

  const deliveries = (await audit('?action=webhook.receive')).json().data
  assert.deepEqual(deliveries.map((row: any) => [row.outcome, row.metadata.provider, row.metadata.deliveryId ?? null]), [
    ['refused', 'github', null],
    ['duplicate', 'github', 'gh-1'],
    ['accepted', 'github', 'gh-1']
  ])

  const first = (await audit('?action=runs.trigger&limit=3')).json()
  assert.equal(first.data.length, 3)
  assert.equal(first.hasMore, true)
  const second = (await audit(`?action=runs.trigger&limit=3&cursor=${first.cursor}`)).json()
  assert.equal(second.data.length, 1)
  assert.equal(second.hasMore, false)
  assert.equal(second.cursor, null)
  assert.ok(second.data[0].id < first.data[2].id)

  for (const key of [KEYS.runsRead, KEYS.deployRead, KEYS.deployWrite]) assert.equal((await audit('', key)).statusCode, 403)
  assert.equal((await audit('?cursor=nonsense')).json().code, 'validation_error')
  assert.equal((await audit('?limit=0')).statusCode, 400)
})
