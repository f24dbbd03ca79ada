import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { performIdempotently, type Claim } from '../../../lib/idempotency/perform.js'
import { IdempotencyStore } from '../../../lib/idempotency/store.js'
import type { TriggerPlan } from '../../../lib/runs/trigger.js'
import { SqliteControlPlane } from '../../../lib/store/sqlite/index.js'
import { parseWebhookProviders } from '../../../lib/webhooks/providers.js'
import { DELIVERY_RETENTION_MS, WebhookReceiver } from '../../../lib/webhooks/receiver.js'
import { tempDir } from '../../helper.js'

const SECRET = 'receiver-secret'
const LEASE_MS = 30_000

interface Started { claim: Claim<TriggerPlan>, workflowName: string }

/**
 * A receiver on the real idempotency ledger (a SQLite file, the clock under the test's control).
 * Its trigger records each claim it runs under and commits a plan, as the run trigger does;
 * `trigger.next` replaces what the next one does after that.
 */
async function receiverAt (t: TestContext) {
  const dir = await tempDir(t)
  const controlPlane = new SqliteControlPlane(join(dir, 'worker.db'), join(dir, 'artifacts'))
  t.after(() => controlPlane.close())
  const clock = { now: Date.now() }
  const store = new IdempotencyStore(controlPlane.idempotency, { retentionMs: 3_600_000, leaseMs: LEASE_MS, now: () => clock.now })
  const started: Started[] = []
  const trigger: { next?: () => Promise<void> } = {}
  const receiver = new WebhookReceiver({
    providers: parseWebhookProviders({
      github: { scheme: 'github', secret: SECRET, trigger: { workflowName: 'onPush' } },
      mirror: { scheme: 'github', secret: SECRET, trigger: { workflowName: 'onPush' } }
    }),
    idempotently: async (options, work) => await performIdempotently(store, { ...options, waitMs: 0 }, work),
    onWebhook: undefined,
    startRun: async (claim, request) => {
      started.push({ claim, workflowName: request.workflowName })
      // As the run trigger does: the plan is committed before anything else happens.
      if (claim.plan === undefined) await claim.commitPlan({ deploymentId: 'dpl_1', workflowName: request.workflowName })
      const next = trigger.next
      trigger.next = undefined
      await next?.()
      return { status: 202, body: { runId: claim.reference, status: 'pending', workflowName: request.workflowName, deploymentId: 'dpl_1', createdAt: new Date().toISOString() } }
    }
  })
  const deliver = async (provider: string, deliveryId: string, body = '{"n":1}') => await receiver.receive({
    provider,
    rawBody: Buffer.from(body),
    correlationId: `corr-${deliveryId}`,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex')
    }
  })
  return { store, clock, started, trigger, deliver }
}

test('a delivery is processed once; a repeat gets the first answer and starts nothing, per provider', async (t) => {
  const { deliver, started } = await receiverAt(t)
  const first = await deliver('github', 'd1')
  assert.deepEqual([first.status, first.outcome, first.runId], [202, 'accepted', started[0].claim.reference])
  assert.deepEqual(first.body, { received: true, deliveryId: 'd1', runId: first.runId })

  const repeat = await deliver('github', 'd1', '{"n":1,"resent":true}')
  assert.deepEqual([repeat.status, repeat.outcome, repeat.runId, repeat.body], [200, 'duplicate', first.runId, first.body])
  assert.equal(started.length, 1)

  const elsewhere = await deliver('mirror', 'd1')
  assert.equal(elsewhere.outcome, 'accepted', 'the same id from another provider is another delivery')
  assert.notEqual(elsewhere.runId, first.runId)
})

test('a delivery that failed after its plan is processed again with the same run; a crashed one is taken over after its lease', async (t) => {
  const { deliver, started, trigger, clock } = await receiverAt(t)
  trigger.next = async () => { throw new Error('the World is down') }
  await assert.rejects(deliver('github', 'd1'), /the World is down/)
  const retried = await deliver('github', 'd1')
  assert.equal(retried.outcome, 'accepted')
  assert.equal(started[1].claim.takeover, true)
  assert.equal(retried.runId, started[0].claim.reference, 'one delivery, one run id')
  assert.deepEqual(started[1].claim.plan, { deploymentId: 'dpl_1', workflowName: 'onPush' })

  // A process that dies mid-delivery keeps its lease: a retry is refused until the lease is over.
  trigger.next = async () => await new Promise<void>(() => {})
  void deliver('github', 'd2')
  await new Promise<void>((resolve) => setImmediate(resolve))
  await assert.rejects(deliver('github', 'd2'), { code: 'idempotency_in_progress' })
  clock.now += LEASE_MS - 1
  await assert.rejects(deliver('github', 'd2'), { code: 'idempotency_in_progress' })
  clock.now += 2
  const takenOver = await deliver('github', 'd2')
  assert.equal(takenOver.outcome, 'accepted')
  assert.equal(takenOver.runId, started[2].claim.reference)
})

test('deliveries are kept 72 hours, then purged', async (t) => {
  const { deliver, store, clock } = await receiverAt(t)
  const start = clock.now
  const first = await deliver('github', 'old')
  clock.now = start + DELIVERY_RETENTION_MS - 1
  assert.equal(await store.purgeExpired(), 0)
  assert.equal((await deliver('github', 'old')).outcome, 'duplicate')
  clock.now = start + DELIVERY_RETENTION_MS + 1
  assert.equal(await store.purgeExpired(), 1)
  const afresh = await deliver('github', 'old')
  assert.equal(afresh.outcome, 'accepted')
  assert.notEqual(afresh.runId, first.runId)
})
