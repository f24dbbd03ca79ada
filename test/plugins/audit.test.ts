import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import { DomainError } from '../../lib/errors.js'
import auditPlugin, { type AuditPluginOptions } from '../../plugins/audit.js'
import authPlugin from '../../plugins/auth.js'
import correlationPlugin from '../../plugins/correlation.js'
import errorsPlugin from '../../plugins/errors.js'
import storagePlugin from '../../plugins/storage.js'
import { KEYS, SEED_KEYS, bearer, build, tempDir, until } from '../helper.js'
import { lane } from '../world-lane.js'

const RUN_ID = 'wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F'

/** The audit plugin on a bare Fastify, with what it stands on (SQLite, keys, correlation, errors) and probe routes. */
async function bare (t: TestContext, options: AuditPluginOptions = {}): Promise<{ app: FastifyInstance, sqlitePath: string }> {
  const app = Fastify()
  t.after(() => app.close())
  const sqlitePath = join(await tempDir(t), 'worker.db')
  await app.register(errorsPlugin)
  await app.register(correlationPlugin)
  await app.register(storagePlugin, { sqlitePath, artifactDir: join(sqlitePath, '..', 'artifacts'), seedApiKeys: SEED_KEYS })
  await app.register(authPlugin)
  await app.register(auditPlugin, options)

  app.post<{ Querystring: { fail?: string, replay?: string, word?: string } }>('/things', { config: { audit: 'things.create' } }, async (request, reply) => {
    request.auditFacts = { target: 'thing-1', metadata: { size: 3 } }
    if (request.query.fail !== undefined) throw new DomainError(request.query.fail === '429' ? 'rate_limited' : 'deployment_not_found', 'no')
    if (request.query.replay !== undefined) reply.header('idempotent-replayed', 'true')
    if (request.query.word !== undefined) request.auditFacts.outcome = request.query.word
    request.auditFacts.runId = request.query.replay === undefined ? RUN_ID : undefined
    return reply.code(201).send({ ok: true })
  })
  app.post('/things/scoped', { config: { audit: 'things.scoped', scope: 'deploy:write' } }, async () => ({ ok: true }))
  app.post('/public', { config: { audit: 'public.call', auth: false } }, async () => ({ ok: true }))
  app.get('/things', async () => ({ ok: true }))
  app.post<{ Querystring: { status?: string, kind?: string } }>('/counted', { config: { audit: { action: 'things.count', aggregate: true } } }, async (request, reply) => {
    request.auditFacts = { kind: request.query.kind, runId: RUN_ID }
    return reply.code(Number(request.query.status ?? 200)).send({})
  })
  await app.ready()
  return { app, sqlitePath }
}

async function rowsOf (app: FastifyInstance, correlationId: string) {
  return (await app.auditLog.findByCorrelationId(correlationId))
}

test('a route with config.audit writes one row per request: its facts, the outcome its status gives, actor, correlation and run id', async (t) => {
  const { app } = await bare(t)
  const post = async (url: string, correlationId: string, headers: Record<string, string> = bearer(KEYS.admin)) =>
    await app.inject({ method: 'POST', url, headers: { ...headers, 'x-workflow-correlation-id': correlationId } })

  await post('/things', 'ok')
  const [row, ...more] = await rowsOf(app, 'ok')
  assert.equal(more.length, 0)
  assert.deepEqual([row.action, row.target, row.outcome, row.actorKeyId], ['things.create', 'thing-1', 'success', (await app.apiKeys.authenticate(KEYS.admin))?.id])
  assert.deepEqual(row.metadata, { size: 3, statusCode: 201, correlationId: 'ok', runId: RUN_ID })

  await post('/things?replay=1', 'replayed', { ...bearer(KEYS.admin), 'x-workflow-run-id': RUN_ID })
  assert.equal((await rowsOf(app, 'replayed'))[0].outcome, 'duplicate')
  assert.equal((await rowsOf(app, 'replayed'))[0].metadata.runId, RUN_ID, 'without a run id of its own, the row takes x-workflow-run-id')

  await post('/things?fail=404', 'failed')
  const [failed] = await rowsOf(app, 'failed')
  assert.deepEqual([failed.outcome, failed.metadata.code, failed.metadata.statusCode], ['failure', 'deployment_not_found', 404])

  await post('/things', 'no-key', {})
  await post('/things/scoped', 'wrong-scope', bearer(KEYS.runsRead))
  assert.deepEqual((await rowsOf(app, 'no-key')).map((r) => [r.outcome, r.metadata.code, r.actorKeyId]), [['denied', 'unauthorized', null]])
  assert.deepEqual((await rowsOf(app, 'wrong-scope')).map((r) => [r.action, r.outcome, r.metadata.code]), [['things.scoped', 'denied', 'forbidden']])

  await post('/things?word=accepted', 'own-word')
  assert.equal((await rowsOf(app, 'own-word'))[0].outcome, 'accepted', "the route's own word wins over the status's")

  await post('/public', 'public')
  assert.equal((await rowsOf(app, 'public'))[0].actorKeyId, null, 'a public route has no actor, even when a key came along')

  await post('/things?fail=429', 'limited')
  assert.equal((await rowsOf(app, 'limited')).length, 0, 'rate-limited refusals write no row')
  await app.inject({ method: 'GET', url: '/things', headers: { ...bearer(KEYS.admin), 'x-workflow-correlation-id': 'read' } })
  assert.equal((await rowsOf(app, 'read')).length, 0, 'routes without config.audit write none')
})

test('aggregated routes count into one row per key and action each window, rate-limited requests included', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: Date.UTC(2026, 0, 1) })
  const { app, sqlitePath } = await bare(t, { aggregateWindowMs: 1_000 })
  const count = async (query: string, key: string = KEYS.worldProxy, correlationId?: string) =>
    await app.inject({ method: 'POST', url: `/counted?${query}`, headers: { ...bearer(key), ...(correlationId !== undefined ? { 'x-workflow-correlation-id': correlationId } : {}) } })

  await count('kind=a', KEYS.worldProxy, 'first')
  t.mock.timers.tick(400)
  await count('kind=a')
  await count('kind=b&status=404')
  await count('status=429')
  await count('kind=a', KEYS.admin)
  assert.equal((await app.auditLog.recent()).length, 0, 'nothing is written per request')

  t.mock.timers.tick(600)
  const rows = (await app.auditLog.recent())
  assert.equal(rows.length, 2, 'one row per key and action')
  const worldProxyId = (await app.apiKeys.authenticate(KEYS.worldProxy))?.id
  const row = rows.find((r) => r.actorKeyId === worldProxyId)
  assert.ok(row !== undefined)
  assert.deepEqual([row.action, row.outcome], ['things.count', 'partial'])
  assert.deepEqual(row.metadata, {
    aggregated: true,
    count: 4,
    failures: 2,
    statuses: { 200: 2, 404: 1, 429: 1 },
    kinds: { a: 2, b: 1 },
    runIds: [RUN_ID],
    from: '2026-01-01T00:00:00.000Z',
    to: '2026-01-01T00:00:00.400Z',
    correlationId: 'first',
    runId: RUN_ID
  })

  // A new window starts empty; closing the app writes what is pending.
  t.mock.timers.tick(1_000)
  assert.equal((await app.auditLog.recent()).length, 2)
  await count('kind=c')
  await app.close()
  const db = new Database(sqlitePath, { readonly: true })
  t.after(() => db.close())
  const last = db.prepare('SELECT outcome, metadata_json FROM audit_log ORDER BY id DESC LIMIT 1').get() as { outcome: string, metadata_json: string }
  assert.equal(last.outcome, 'success')
  assert.deepEqual(JSON.parse(last.metadata_json).kinds, { c: 1 })
})

test('auditWindowMs reaches the aggregated sink of the worker', async (t) => {
  const { app } = await build(t, { auditWindowMs: 20 })
  const res = await lane(app, 'POST', '/v1/world/events/create', { runId: RUN_ID, data: { eventType: 'run_cancelled', specVersion: 3 } })
  assert.equal(res.status, 404)
  const [row] = await until(async () => { const rows = (await app.auditLog.recent()); return rows.length > 0 ? rows : undefined }, 'the aggregated row')
  assert.deepEqual([row.action, row.metadata.count, row.metadata.kinds], ['world.events.create', 1, { run_cancelled: 1 }])
})
