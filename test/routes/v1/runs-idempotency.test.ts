import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { World } from '@workflow/world'
import { build, sqliteOf } from '../../helper.js'
import { dropQueueDeliveries } from '../../fixture-executor.js'
import { deployFixture, triggerRun } from '../../public-lane.js'

/**
 * Holds every `run_created` of the real world-local until `release()`: the trigger that makes it
 * stays in flight for as long as the test wants. `entered` resolves when the first one is held.
 */
function holdRunCreation (world: World): { entered: Promise<void>, release: () => void } {
  const original = world.events.create
  // Loosely typed: create() is overloaded per event type, and Parameters<> sees only the last overload.
  const create = original.bind(world.events) as (...args: unknown[]) => Promise<unknown>
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let enter!: () => void
  const entered = new Promise<void>((resolve) => { enter = resolve })
  world.events.create = (async (...args: unknown[]) => {
    if ((args[1] as { eventType?: string } | undefined)?.eventType === 'run_created') {
      enter()
      await gate
    }
    return await create(...args)
  }) as typeof original
  return { entered, release: () => { world.events.create = original; release() } }
}

test('a duplicate arriving while the original is in flight longer than the wait gets 409 idempotency_in_progress with retry-after', async (t) => {
  const { app, options } = await build(t, { idempotencyWaitMs: 50 })
  dropQueueDeliveries(options.world)
  await deployFixture(app, { files: false })
  const held = holdRunCreation(options.world)
  t.after(held.release)

  const body = { workflowName: 'greet', input: ['slow'] }
  const original = triggerRun(app, body, 'in-flight-1')
  await held.entered
  // The duplicate waits for the original (idempotencyWaitMs) and gives up: the original is still held.
  const duplicate = await triggerRun(app, body, 'in-flight-1')
  assert.equal(duplicate.statusCode, 409, duplicate.body)
  assert.equal(duplicate.json().code, 'idempotency_in_progress')
  const retryAfter = Number(duplicate.headers['retry-after'])
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30, `retry-after: ${duplicate.headers['retry-after']}`)

  held.release()
  const accepted = await original
  assert.equal(accepted.statusCode, 202, accepted.body)
  const retried = await triggerRun(app, body, 'in-flight-1')
  assert.equal(retried.statusCode, 202)
  assert.equal(retried.headers['idempotent-replayed'], 'true')
  assert.equal(retried.json().runId, accepted.json().runId)
})

interface RecordTimes { created_at: number, expires_at: number }

test('idempotencyRetentionHours reaches the records and their purge: an older record is purged and its key is free again', async (t) => {
  const retention = { idempotencyRetentionHours: 1 }
  const first = await build(t, retention)
  dropQueueDeliveries(first.options.world)
  await deployFixture(first.app, { files: false })
  const original = { workflowName: 'sum', input: [1, 2] }
  const other = { workflowName: 'sum', input: [3, 4] }
  assert.equal((await triggerRun(first.app, original, 'retained-old')).statusCode, 202)
  assert.equal((await triggerRun(first.app, original, 'retained-young')).statusCode, 202)

  const db = sqliteOf(first.app)
  const times = (key: string) => db.prepare<[string], RecordTimes>('SELECT created_at, expires_at FROM idempotency_records WHERE idempotency_key = ?').get(key)
  const recorded = times('retained-old')
  assert.ok(recorded !== undefined)
  assert.equal(recorded.expires_at - recorded.created_at, 3_600_000, 'kept for the configured hour')
  // One record an hour and a minute old, the other 59 minutes old.
  const backdate = db.prepare('UPDATE idempotency_records SET created_at = created_at - @by, updated_at = updated_at - @by, expires_at = expires_at - @by WHERE idempotency_key = @key')
  backdate.run({ key: 'retained-old', by: 61 * 60_000 })
  backdate.run({ key: 'retained-young', by: 59 * 60_000 })
  await first.app.close()

  // The purge runs at start-up (then every few minutes): the record past its retention is gone before any request.
  const { app, options } = await build(t, { ...retention, sqlitePath: first.options.sqlitePath, artifactDir: first.options.artifactDir })
  dropQueueDeliveries(options.world)
  const keys = sqliteOf(app).prepare<[], { idempotency_key: string }>('SELECT idempotency_key FROM idempotency_records ORDER BY idempotency_key').all()
  assert.deepEqual(keys.map((row) => row.idempotency_key), ['retained-young'])

  const reused = await triggerRun(app, other, 'retained-old')
  assert.equal(reused.statusCode, 202, reused.body)
  assert.equal(reused.headers['idempotent-replayed'], undefined)
  const young = await triggerRun(app, other, 'retained-young')
  assert.equal(young.statusCode, 409)
  assert.equal(young.json().code, 'idempotency_conflict')
})
