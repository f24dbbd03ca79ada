import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import Fastify, { type FastifyInstance } from 'fastify'
import { DomainError } from '../../lib/errors.js'
import { resolveOptions } from '../../lib/options.js'
import configPlugin from '../../plugins/config.js'
import errorsPlugin from '../../plugins/errors.js'
import metricsPlugin from '../../plugins/metrics.js'
import { tempDir } from '../helper.js'
import { parsePrometheusText, valueOf } from '../prometheus-text.js'

/** The metrics plugin on a bare Fastify, with the config it reads and the error handler, and probe routes. */
async function bare (t: TestContext, enabled = true): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(() => app.close())
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  await app.register(configPlugin, { config: resolveOptions({ world, targetWorld: 'local' }) })
  await app.register(errorsPlugin)
  await app.register(metricsPlugin, { enabled })
  app.get<{ Params: { id: string } }>('/things/:id', async (request) => {
    if (request.params.id.startsWith('gone_')) throw new DomainError('run_not_found', 'no such thing')
    return { id: request.params.id }
  })
  // A trigger route is one with config.idempotency; its outcome comes from the status, the error code and the replay header.
  app.post<{ Querystring: { answer?: string } }>('/triggers', { config: { idempotency: { scope: 'POST /triggers', newReference: () => 'ref' } } }, async (request, reply) => {
    if (request.query.answer === 'conflict') throw new DomainError('idempotency_conflict', 'another payload')
    if (request.query.answer === 'refused') throw new DomainError('deployment_not_found', 'no deployment')
    if (request.query.answer === 'replayed') reply.header('idempotent-replayed', 'true')
    return await reply.code(202).send({ ok: true })
  })
  await app.ready()
  return app
}

test('HTTP requests are labelled by route template, method and status, never by the ids in the URL', async (t) => {
  const app = await bare(t)
  await app.inject({ url: '/things/wrun_01ARZ3NDEKTSV4RRFFQ69G5FAV' })
  await app.inject({ url: '/things/dpl_secret-id-123' })
  await app.inject({ url: '/things/gone_abc' })
  await app.inject({ url: '/no/such/path/abc123' })
  await app.inject({ method: 'POST', url: '/things/x' })

  const text = await app.metrics!.render()
  const samples = parsePrometheusText(text)
  const http = 'compute_worker_http_request_duration_seconds_count'
  assert.equal(valueOf(samples, http, { route: '/things/:id', method: 'GET', status_code: '200' }), 2)
  assert.equal(valueOf(samples, http, { route: '/things/:id', method: 'GET', status_code: '404' }), 1)
  assert.equal(valueOf(samples, http, { route: 'unmatched', method: 'GET', status_code: '404' }), 1)
  assert.equal(valueOf(samples, http, { route: 'unmatched', method: 'POST', status_code: '404' }), 1)
  assert.doesNotMatch(text, /wrun_|dpl_secret|gone_abc|abc123/)
})

test('a route with config.idempotency counts each trigger\'s outcome: created, replayed, conflict, refused', async (t) => {
  const app = await bare(t)
  for (const answer of ['created', 'created', 'replayed', 'conflict', 'refused']) {
    await app.inject({ method: 'POST', url: `/triggers?answer=${answer}` })
  }
  await app.inject({ url: '/things/not-a-trigger' })
  const samples = parsePrometheusText(await app.metrics!.render())
  const triggers = 'compute_worker_triggers_total'
  assert.equal(valueOf(samples, triggers, { source: 'api', outcome: 'created' }), 2)
  assert.equal(valueOf(samples, triggers, { source: 'api', outcome: 'replayed' }), 1)
  assert.equal(valueOf(samples, triggers, { source: 'api', outcome: 'conflict' }), 1)
  assert.equal(valueOf(samples, triggers, { source: 'api', outcome: 'refused' }), 1)
  assert.equal(valueOf(samples, triggers), 5, 'the other route counts no trigger')
})

test('enabled: false decorates metrics as undefined; requests are served as before', async (t) => {
  const app = await bare(t, false)
  assert.equal(app.metrics, undefined)
  assert.equal((await app.inject({ url: '/things/a' })).statusCode, 200)
})
