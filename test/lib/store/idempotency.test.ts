import assert from 'node:assert/strict'
import { describeError } from '../../../http/errors.js'
import { performIdempotently } from '../../../lib/idempotency/perform.js'
import { schedulePurge } from '../../../lib/idempotency/purge.js'
import { IdempotencyStore, type IdempotencyStoreOptions } from '../../../lib/idempotency/store.js'
import type { ControlPlane } from '../../../lib/store/control-plane.js'
import { eachBackend } from './backends.js'

const id = { owner: 'key_a', scope: 'POST /v1/runs', key: 'k1' }

function storeOn (controlPlane: ControlPlane, options: Partial<IdempotencyStoreOptions> = {}): IdempotencyStore {
  return new IdempotencyStore(controlPlane.idempotency, { retentionMs: 3_600_000, ...options })
}

eachBackend('reserve: claim, in progress, conflict, takeover of an expired lease with its plan, fenced writes, replay', async (_t, { controlPlane, another }) => {
  let now = 1_000_000
  const store = storeOn(controlPlane, { leaseMs: 1000, now: () => now })
  const claim = await store.reserve(id, 'fp', 'wrun_A')
  assert.deepEqual(claim, { kind: 'claimed', reference: 'wrun_A', plan: undefined, lease: now + 1000, takeover: false })
  assert.deepEqual(await store.reserve(id, 'fp', 'wrun_B'), { kind: 'in_progress', leaseUntil: now + 1000 })
  assert.deepEqual(await store.reserve(id, 'other', 'wrun_B'), { kind: 'conflict' })
  assert.ok(claim.kind === 'claimed' && await store.savePlan(id, claim.lease, { deploymentId: 'dpl_1' }))

  // The holder dies; once its lease is over, another worker finishes the same reference with its plan.
  now += 1001
  const elsewhere = storeOn(await another(), { leaseMs: 1000, now: () => now })
  const taken = await elsewhere.reserve(id, 'fp', 'wrun_C')
  assert.ok(taken.kind === 'claimed')
  assert.deepEqual([taken.reference, taken.plan, taken.takeover], ['wrun_A', { deploymentId: 'dpl_1' }, true])
  assert.ok(taken.lease > claim.lease)
  // The old holder's lease no longer counts, for any write.
  assert.equal(await store.savePlan(id, claim.lease, { late: true }), false)
  assert.equal(await store.complete(id, claim.lease, 202, '{"late":true}'), false)
  assert.equal(await elsewhere.complete(id, taken.lease, 202, '{"runId":"wrun_A"}'), true)
  assert.deepEqual(await store.reserve(id, 'fp', 'wrun_D'), { kind: 'completed', reference: 'wrun_A', status: 202, bodyJson: '{"runId":"wrun_A"}' })
  assert.deepEqual(await store.reserve(id, 'other', 'wrun_D'), { kind: 'conflict' }, 'a completed key still refuses another payload')
})

eachBackend('reserve: of many at once for one key, exactly one claims it', async (_t, { controlPlane, another }) => {
  const stores = [storeOn(controlPlane), storeOn(await another()), storeOn(await another())]
  const reservations = await Promise.all(Array.from({ length: 30 }, async (_, i) => await stores[i % 3].reserve(id, 'fp', `wrun_${i}`)))
  assert.equal(reservations.filter((r) => r.kind === 'claimed').length, 1)
  assert.equal(reservations.filter((r) => r.kind === 'in_progress').length, 29)
})

eachBackend('release forgets the key, abandon keeps it for an immediate takeover', async (_t, { controlPlane }) => {
  const store = storeOn(controlPlane, { leaseMs: 60_000 })
  const first = await store.reserve(id, 'fp', 'wrun_A')
  assert.ok(first.kind === 'claimed')
  await store.release(id, first.lease)
  const again = await store.reserve(id, 'other', 'wrun_B')
  assert.ok(again.kind === 'claimed' && again.reference === 'wrun_B' && !again.takeover, 'a released key starts afresh, with any payload')
  await store.savePlan(id, again.lease, { step: 1 })
  await store.abandon(id, again.lease)
  const taken = await store.reserve(id, 'other', 'wrun_C')
  assert.ok(taken.kind === 'claimed' && taken.reference === 'wrun_B' && taken.takeover)
  assert.deepEqual(taken.plan, { step: 1 })
})

eachBackend('start-up releases the leases only where one process owns the database', async (_t, { name, controlPlane }) => {
  const store = storeOn(controlPlane, { leaseMs: 60_000 })
  await store.reserve(id, 'fp', 'wrun_A')
  if (name === 'sqlite') {
    assert.equal(await store.expireAllLeases(), 1)
    const taken = await store.reserve(id, 'fp', 'wrun_B')
    assert.ok(taken.kind === 'claimed' && taken.reference === 'wrun_A' && taken.takeover)
  } else {
    // Another worker may be running that claim right now.
    assert.equal(await store.expireAllLeases(), 0)
    assert.equal((await store.reserve(id, 'fp', 'wrun_B')).kind, 'in_progress')
  }
})

eachBackend('records expire after the retention and are purged, now and periodically', async (t, { controlPlane }) => {
  let now = 5_000
  const store = storeOn(controlPlane, { retentionMs: 1000, now: () => now })
  const count = async () => (await controlPlane.idempotency.listLive(0)).length
  const first = await store.reserve(id, 'fp', 'wrun_A')
  assert.ok(first.kind === 'claimed')
  await store.complete(id, first.lease, 202, '{}')
  now += 1000
  // An expired record is gone for reserve too: the key starts afresh.
  const fresh = await store.reserve(id, 'other', 'wrun_B')
  assert.ok(fresh.kind === 'claimed' && fresh.reference === 'wrun_B')
  await store.reserve({ ...id, key: 'k2' }, 'fp', 'wrun_C')
  now += 1000
  const purges: number[] = []
  let purged!: () => void
  const done = new Promise<void>((resolve) => { purged = resolve })
  const schedule = schedulePurge(store, 60_000, (n) => { purges.push(n); purged() })
  t.after(() => schedule.stop())
  await done
  assert.deepEqual(purges, [2], 'purged at once')
  assert.equal(await count(), 0)
})

eachBackend('listLive and import: records copied as they are, once', async (_t, { controlPlane, separate }) => {
  const store = storeOn(controlPlane)
  const claim = await store.reserve(id, 'fp', 'wrun_A')
  assert.ok(claim.kind === 'claimed')
  await store.complete(id, claim.lease, 202, '{"runId":"wrun_A"}')
  await store.reserve({ ...id, key: 'k2' }, 'fp', 'wrun_B')
  const rows = await controlPlane.idempotency.listLive(Date.now())
  assert.equal(rows.length, 2)
  const target = await separate()
  assert.equal(await target.idempotency.import(rows), 2)
  assert.equal(await target.idempotency.import(rows), 0)
  assert.deepEqual(await storeOn(target).reserve(id, 'fp', 'wrun_X'), { kind: 'completed', reference: 'wrun_A', status: 202, bodyJson: '{"runId":"wrun_A"}' })
})

eachBackend('performIdempotently: a failure before the plan forgets the key, after it keeps the reference', async (_t, { controlPlane }) => {
  const store = storeOn(controlPlane)
  const options = { id, fingerprint: 'fp', newReference: () => `ref_${Math.random()}`, waitMs: 0 }
  await assert.rejects(performIdempotently(store, options, async () => { throw new Error('before any side effect') }))
  let firstReference = ''
  await assert.rejects(performIdempotently(store, options, async (claim) => {
    firstReference = claim.reference
    assert.equal(claim.takeover, false)
    await claim.commitPlan({ step: 1 })
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

eachBackend('performIdempotently with a plan: the new record carries it (no savePlan), a takeover finishes it, a replay needs none', async (_t, { controlPlane, another }) => {
  let now = 1_000_000
  const store = storeOn(controlPlane, { leaseMs: 1000, now: () => now })
  const savePlan = store.savePlan.bind(store)
  let planWrites = 0
  store.savePlan = async (...args) => { planWrites++; return await savePlan(...args) }
  const options = { id, fingerprint: 'fp', newReference: () => `ref_${Math.random()}`, waitMs: 0, plan: async () => ({ deploymentId: 'dpl_1' }) }
  let firstReference = ''
  await assert.rejects(performIdempotently(store, options, async (claim) => {
    firstReference = claim.reference
    assert.deepEqual([claim.plan, claim.takeover], [{ deploymentId: 'dpl_1' }, false])
    throw new Error('crashed after the claim')
  }))
  assert.equal(planWrites, 0, 'the plan came with the claim')

  // Kept (the plan was committed with the claim), and taken over by another worker with that plan, not a new one.
  now += 1001
  const elsewhere = storeOn(await another(), { leaseMs: 1000, now: () => now })
  const outcome = await performIdempotently(elsewhere, { ...options, plan: async () => ({ deploymentId: 'dpl_2' }) }, async (claim) => {
    assert.deepEqual([claim.reference, claim.plan, claim.takeover], [firstReference, { deploymentId: 'dpl_1' }, true])
    return { status: 202, body: { ref: claim.reference } }
  })
  assert.deepEqual(outcome, { status: 202, body: { ref: firstReference }, replayed: false })

  // A plan that cannot be resolved now (the deployment is gone) does not stop a replay.
  const replay = await performIdempotently(store, { ...options, plan: async () => { throw new Error('no active deployment') } }, async () => { throw new Error('must not run') })
  assert.deepEqual(replay, { status: 202, body: { ref: firstReference }, replayed: true })
  // And for a new key the work runs without one, failing (and forgetting the key) its own way.
  const fresh = { ...options, id: { ...id, key: 'k2' }, plan: async () => { throw new Error('no active deployment') } }
  await assert.rejects(performIdempotently(store, fresh, async (claim) => {
    assert.equal(claim.plan, undefined)
    throw new Error('resolved again: no active deployment')
  }), /resolved again/)
  assert.equal((await store.reserve(fresh.id, 'fp', 'ref_new')).kind, 'claimed', 'the key was forgotten')
})

eachBackend('performIdempotently: a duplicate waits for the original (on another worker too) and replays it, or gets 409 in progress', async (t, { name, controlPlane, another }) => {
  const store = storeOn(controlPlane)
  const elsewhere = storeOn(await another())
  // Another worker on SQLite hears of the settled claim only when its wait times out (PostgreSQL
  // notifies it, and its driver's own timers must run): on SQLite the waits' timers are mocked,
  // and run out below once the original is done.
  const mocked = name === 'sqlite'
  if (mocked) t.mock.timers.enable({ apis: ['setTimeout'] })
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let started!: () => void
  const running = new Promise<void>((resolve) => { started = resolve })
  const work = async (claim: { reference: string }) => { started(); await gate; return { status: 202, body: { ref: claim.reference } } }
  const original = performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_1', waitMs: 10_000 }, work)
  await running
  await assert.rejects(
    performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_2', waitMs: 0 }, work),
    (error: any) => error.code === 'idempotency_in_progress' && describeError(error).headers?.['retry-after'] !== undefined)
  const duplicate = performIdempotently(store, { id, fingerprint: 'fp', newReference: () => 'ref_3', waitMs: 10_000 }, work)
  const remote = performIdempotently(elsewhere, { id, fingerprint: 'fp', newReference: () => 'ref_4', waitMs: 10_000 }, work)
  release()
  assert.deepEqual(await original, { status: 202, body: { ref: 'ref_1' }, replayed: false })
  assert.deepEqual(await duplicate, { status: 202, body: { ref: 'ref_1' }, replayed: true })
  const settled = { now: !mocked }
  const remoteAnswer = remote.finally(() => { settled.now = true })
  while (!settled.now) {
    t.mock.timers.tick(10_000)
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.deepEqual(await remoteAnswer, { status: 202, body: { ref: 'ref_1' }, replayed: true })
})
