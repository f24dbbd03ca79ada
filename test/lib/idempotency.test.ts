import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeError } from '../../http/errors.js'
import { fingerprintOf, readIdempotencyKey } from '../../lib/idempotency/fingerprint.js'
import { performIdempotently } from '../../lib/idempotency/perform.js'
import { schedulePurge } from '../../lib/idempotency/purge.js'
import { IdempotencyStore } from '../../lib/idempotency/store.js'
import { openDatabase } from '../../lib/store/database.js'
import { tempDir } from '../helper.js'

async function storeAt (t: import('node:test').TestContext, options: { retentionMs?: number, leaseMs?: number, now?: () => number } = {}) {
  const db = openDatabase(join(await tempDir(t), 'worker.db'))
  t.after(() => db.close())
  return { db, store: new IdempotencyStore(db, { retentionMs: options.retentionMs ?? 3_600_000, leaseMs: options.leaseMs, now: options.now }) }
}

const id = { owner: 'key_a', scope: 'POST /v1/runs', key: 'k1' }

test('fingerprints ignore key order and whitespace, not values', () => {
  assert.equal(fingerprintOf({ a: 1, b: { c: [1, 2], d: 'x' } }), fingerprintOf(JSON.parse('{ "b": {"d":"x","c":[1,2]}, "a": 1 }')))
  assert.notEqual(fingerprintOf({ a: [1, 2] }), fingerprintOf({ a: [2, 1] }))
  assert.notEqual(fingerprintOf({ a: 1 }), fingerprintOf({ a: '1' }))
})

test('Idempotency-Key: required, 1–255 printable characters', () => {
  assert.throws(() => readIdempotencyKey(undefined), { code: 'idempotency_key_required' })
  for (const bad of ['', '   ', 'x'.repeat(256), 'new\nline', 'ü', ['a', 'b']]) {
    assert.throws(() => readIdempotencyKey(bad), { code: 'validation_error' }, JSON.stringify(bad))
  }
  assert.equal(readIdempotencyKey('order-42:retry 1'), 'order-42:retry 1')
})

test('reserve: claim, replay, conflict, in progress, takeover of an expired lease', async (t) => {
  let now = 1_000_000
  const { store } = await storeAt(t, { leaseMs: 1000, now: () => now })
  const claim = store.reserve(id, 'fp', 'wrun_A')
  assert.deepEqual(claim, { kind: 'claimed', reference: 'wrun_A', plan: undefined, lease: now + 1000, takeover: false })
  assert.deepEqual(store.reserve(id, 'fp', 'wrun_B'), { kind: 'in_progress', leaseUntil: now + 1000 })
  assert.deepEqual(store.reserve(id, 'other', 'wrun_B'), { kind: 'conflict' })
  assert.ok(claim.kind === 'claimed' && store.savePlan(id, claim.lease, { deploymentId: 'dpl_1' }))

  // The holder dies; once its lease is over, the next attempt finishes the same reference with its plan.
  now += 1001
  const taken = store.reserve(id, 'fp', 'wrun_C')
  assert.equal(taken.kind, 'claimed')
  assert.ok(taken.kind === 'claimed')
  assert.deepEqual([taken.reference, taken.plan, taken.takeover], ['wrun_A', { deploymentId: 'dpl_1' }, true])
  // The old holder's lease no longer counts.
  assert.equal(store.complete(id, claim.lease, 202, '{"late":true}'), false)
  assert.equal(store.complete(id, taken.lease, 202, '{"runId":"wrun_A"}'), true)
  assert.deepEqual(store.reserve(id, 'fp', 'wrun_D'), { kind: 'completed', reference: 'wrun_A', status: 202, bodyJson: '{"runId":"wrun_A"}' })
})

test('start-up releases every lease so a retry after a crash can take over at once', async (t) => {
  const { store } = await storeAt(t, { leaseMs: 60_000 })
  store.reserve(id, 'fp', 'wrun_A')
  assert.equal(store.reserve(id, 'fp', 'wrun_B').kind, 'in_progress')
  assert.equal(store.expireAllLeases(), 1)
  const taken = store.reserve(id, 'fp', 'wrun_B')
  assert.ok(taken.kind === 'claimed' && taken.reference === 'wrun_A' && taken.takeover)
})

test('records expire after the retention and are purged, now and periodically', async (t) => {
  let now = 5_000
  const { store, db } = await storeAt(t, { retentionMs: 1000, now: () => now })
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM idempotency_records').get() as { n: number }).n
  const first = store.reserve(id, 'fp', 'wrun_A')
  assert.ok(first.kind === 'claimed')
  store.complete(id, first.lease, 202, '{}')
  now += 1000
  // An expired record is gone for reserve too: the key starts afresh.
  const fresh = store.reserve(id, 'other', 'wrun_B')
  assert.ok(fresh.kind === 'claimed' && fresh.reference === 'wrun_B')
  store.reserve({ ...id, key: 'k2' }, 'fp', 'wrun_C')
  now += 1000
  const purges: number[] = []
  const schedule = schedulePurge(store, 20, (purged) => purges.push(purged))
  t.after(() => schedule.stop())
  assert.deepEqual(purges, [2], 'purged at once')
  assert.equal(count(), 0)
  store.reserve({ ...id, key: 'k3' }, 'fp', 'wrun_D')
  now += 1000
  while (count() > 0) await sleep(10)
  assert.ok(purges.includes(1), 'purged by the timer')
})

test('performIdempotently: a failure before the plan forgets the key, after it keeps the reference', async (t) => {
  const { store } = await storeAt(t)
  const options = { id, fingerprint: 'fp', newReference: () => `ref_${Math.random()}`, waitMs: 0 }
  await assert.rejects(performIdempotently(store, options, async () => { throw new Error('before any side effect') }))
  let firstReference = ''
  await assert.rejects(performIdempotently(store, options, async (claim) => {
    firstReference = claim.reference
    assert.equal(claim.takeover, false)
    claim.commitPlan({ step: 1 })
    throw new Error('crashed after committing')
  }))
  const outcome = await performIdempotently(store, options, async (claim) => {
    assert.equal(claim.reference, firstReference)
    assert.deepEqual(claim.plan, { step: 1 })
    return { status: 202, body: { ref: claim.reference } }
  })
  assert.deepEqual(outcome, { status: 202, body: { ref: firstReference }, replayed: false })
  const replay = await performIdempotently(store, options, async () => { throw new Error('must not run') })
  assert.deepEqual(replay, { status: 202, body: { ref: firstReference }, replayed: true })
})

test('performIdempotently: a duplicate waits for the original and replays it, or gets 409 in progress', async (t) => {
  const { store } = await storeAt(t)
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const work = async (claim: { reference: string }) => { await gate; return { status: 202, body: { ref: claim.reference } } }
  const original = performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_1', waitMs: 10_000 }, work)
  await sleep(5)
  await assert.rejects(
    performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_2', waitMs: 0 }, work),
    (error: any) => error.code === 'idempotency_in_progress' && describeError(error).headers?.['retry-after'] !== undefined)
  const duplicate = performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_3', waitMs: 10_000 }, work)
  release()
  assert.deepEqual(await original, { status: 202, body: { ref: 'ref_1' }, replayed: false })
  assert.deepEqual(await duplicate, { status: 202, body: { ref: 'ref_1' }, replayed: true })
})
