import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { DomainError } from '../../lib/errors.js'
import authPlugin from '../../plugins/auth.js'
import correlationPlugin from '../../plugins/correlation.js'
import errorsPlugin from '../../plugins/errors.js'
import idempotencyPlugin from '../../plugins/idempotency.js'
import storagePlugin from '../../plugins/storage.js'
import { KEYS, SEED_KEYS, bearer, tempDir } from '../helper.js'

interface Probe {
  app: FastifyInstance
  /** Holds the work of every request until `release()`; `entered` resolves when one is held. */
  hold: () => { entered: Promise<void>, release: () => void }
  runs: () => number
}

/** The idempotency plugin on a bare Fastify with what it stands on (SQLite, keys, errors) and one probe route. */
async function bare (t: TestContext, waitMs: number): Promise<Probe> {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(errorsPlugin)
  await app.register(correlationPlugin)
  const dir = await tempDir(t)
  await app.register(storagePlugin, { sqlitePath: join(dir, 'worker.db'), artifactDir: join(dir, 'artifacts'), seedApiKeys: SEED_KEYS })
  await app.register(authPlugin)
  await app.register(idempotencyPlugin, { retentionHours: 1, waitMs })

  let references = 0
  let runs = 0
  let gate: Promise<void> | undefined
  let enter: (() => void) | undefined
  app.post<{ Body: { n: number, fail?: boolean } }>('/jobs', {
    config: { idempotency: { scope: 'POST /jobs', newReference: () => `ref_${++references}` } },
    schema: { body: { type: 'object', properties: { n: { type: 'integer' }, fail: { type: 'boolean' } }, required: ['n'] } }
  }, async (request, reply) => await reply.idempotent(async (claim) => {
    enter?.()
    await gate
    runs++
    if (request.body.fail === true) throw new DomainError('run_already_finished', 'refused')
    return { status: 201, body: { reference: claim.reference, n: request.body.n } }
  }))
  await app.ready()
  return {
    app,
    runs: () => runs,
    hold () {
      let release!: () => void
      gate = new Promise((resolve) => { release = resolve })
      const entered = new Promise<void>((resolve) => { enter = resolve })
      return { entered, release: () => { enter = undefined; gate = undefined; release() } }
    }
  }
}

function job (app: FastifyInstance, body: unknown, key: string | undefined, apiKey: string = KEYS.admin) {
  return app.inject({
    method: 'POST',
    url: '/jobs',
    headers: { ...bearer(apiKey), ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    payload: body as object
  })
}

test('reply.idempotent: replay with idempotent-replayed, 409 for another payload, a record per API key; failures are not recorded', async (t) => {
  const { app, runs } = await bare(t, 0)
  const first = await job(app, { n: 1 }, 'k')
  assert.equal(first.statusCode, 201)
  assert.deepEqual(first.json(), { reference: 'ref_1', n: 1 })
  assert.equal(first.headers['idempotent-replayed'], undefined)

  const replay = await job(app, JSON.parse('{ "n": 1 }'), 'k')
  assert.deepEqual([replay.statusCode, replay.headers['idempotent-replayed'], replay.json()], [201, 'true', first.json()])
  const conflict = await job(app, { n: 2 }, 'k')
  assert.deepEqual([conflict.statusCode, conflict.json().code], [409, 'idempotency_conflict'])
  const otherKey = await job(app, { n: 2 }, 'k', KEYS.triggerWrite)
  assert.deepEqual([otherKey.statusCode, otherKey.json().n], [201, 2])

  assert.equal((await job(app, { n: 3, fail: true }, 'failing')).statusCode, 409)
  assert.equal((await job(app, { n: 3 }, 'failing')).statusCode, 201, 'a failed request left the key free')
  assert.equal(runs(), 4)
})

test('the key is checked before the body: missing is 400 idempotency_key_required, malformed 400 validation_error', async (t) => {
  const { app, runs } = await bare(t, 0)
  const missing = await job(app, { n: 'not a number' }, undefined)
  assert.deepEqual([missing.statusCode, missing.json().code], [400, 'idempotency_key_required'])
  const malformed = await job(app, { n: 1 }, ' '.repeat(3))
  assert.deepEqual([malformed.statusCode, malformed.json().code], [400, 'validation_error'])
  assert.equal(runs(), 0)
})

test('a duplicate of a request in flight waits up to waitMs for its answer and replays it', async (t) => {
  const { app, hold, runs } = await bare(t, 60_000)
  const held = hold()
  const store = app.idempotencyStore
  const waitForChange = store.waitForChange.bind(store)
  const waiting = new Promise<void>((resolve) => {
    store.waitForChange = async (...args) => { resolve(); await waitForChange(...args) }
  })
  const original = job(app, { n: 1 }, 'slow')
  await held.entered
  const duplicate = job(app, { n: 1 }, 'slow')
  await waiting
  held.release()
  const [answered, replayed] = await Promise.all([original, duplicate])
  assert.equal(answered.statusCode, 201)
  assert.deepEqual([replayed.statusCode, replayed.headers['idempotent-replayed'], replayed.json()], [201, 'true', answered.json()])
  assert.equal(runs(), 1)
})

test('past waitMs the duplicate gets 409 idempotency_in_progress with retry-after', async (t) => {
  const { app, hold } = await bare(t, 0)
  const held = hold()
  t.after(held.release)
  const original = job(app, { n: 1 }, 'slow')
  await held.entered
  const duplicate = await job(app, { n: 1 }, 'slow')
  assert.deepEqual([duplicate.statusCode, duplicate.json().code], [409, 'idempotency_in_progress'])
  const retryAfter = Number(duplicate.headers['retry-after'])
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30, `retry-after: ${duplicate.headers['retry-after']}`)
  held.release()
  assert.equal((await original).statusCode, 201)
})
