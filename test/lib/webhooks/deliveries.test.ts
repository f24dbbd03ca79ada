import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../../lib/store/database.js'
import { DELIVERY_LEASE_MS, DELIVERY_RETENTION_MS, WebhookDeliveryStore } from '../../../lib/webhooks/deliveries.js'
import { tempDir } from '../../helper.js'

async function store (t: import('node:test').TestContext) {
  const db = openDatabase(join(await tempDir(t), 'worker.db'))
  t.after(() => db.close())
  return new WebhookDeliveryStore(db)
}

test('a delivery is reserved once; the repeat gets the first answer, per provider', async (t) => {
  const deliveries = await store(t)
  assert.deepEqual(deliveries.reserve('github', 'd1', 'c1'), { state: 'reserved' })
  assert.deepEqual(deliveries.reserve('github', 'd1', 'c2'), { state: 'in_progress' })
  deliveries.complete('github', 'd1', { status: 202, body: { received: true, runId: 'wrun_1' }, runId: 'wrun_1' })
  assert.deepEqual(deliveries.reserve('github', 'd1', 'c3'), {
    state: 'completed', answer: { status: 202, body: { received: true, runId: 'wrun_1' }, runId: 'wrun_1' }
  })
  assert.deepEqual(deliveries.reserve('stripe', 'd1', 'c4'), { state: 'reserved' })
})

test('a released delivery is processed again; an abandoned one is taken over after its lease', async (t) => {
  const deliveries = await store(t)
  const now = Date.now()
  deliveries.reserve('acme', 'd1', 'c1', now)
  deliveries.release('acme', 'd1')
  assert.deepEqual(deliveries.reserve('acme', 'd1', 'c2', now), { state: 'reserved' })
  assert.deepEqual(deliveries.reserve('acme', 'd1', 'c3', now + DELIVERY_LEASE_MS - 1), { state: 'in_progress' })
  assert.deepEqual(deliveries.reserve('acme', 'd1', 'c4', now + DELIVERY_LEASE_MS + 1), { state: 'reserved' })
})

test('deliveries are kept 72 hours, then purged', async (t) => {
  const deliveries = await store(t)
  const now = Date.now()
  deliveries.reserve('github', 'old', 'c1', now)
  deliveries.complete('github', 'old', { status: 202, body: {}, runId: null })
  assert.equal(deliveries.purgeExpired(now + DELIVERY_RETENTION_MS - 1), 0)
  assert.equal(deliveries.reserve('github', 'old', 'c2', now + DELIVERY_RETENTION_MS - 1).state, 'completed')
  assert.equal(deliveries.purgeExpired(now + DELIVERY_RETENTION_MS + 1), 1)
  assert.equal(deliveries.reserve('github', 'old', 'c3', now + DELIVERY_RETENTION_MS + 1).state, 'reserved')
})
