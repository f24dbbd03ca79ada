import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DeploymentStore } from '../../../lib/deployments/store.js'
import { IdempotencyStore } from '../../../lib/idempotency/store.js'
import { ApiKeyStore } from '../../../lib/store/api-keys.js'
import { AuditLog } from '../../../lib/store/audit-log.js'
import { copyControlPlane } from '../../../lib/store/copy.js'
import { SqliteControlPlane } from '../../../lib/store/sqlite/index.js'
import { tempDir } from '../../helper.js'
import { eachBackend } from './backends.js'

const SEED = 'seed-key-0000000000000000000000001'
const MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/a.ts': { greet: { workflowId: 'workflow//a//greet' } } } }

eachBackend('a single worker\'s SQLite control plane is copied in whole, once, under the ids the target already uses', async (t, { controlPlane: target }) => {
  const dir = await tempDir(t)
  const source = new SqliteControlPlane(join(dir, 'worker.db'), join(dir, 'artifacts'))
  t.after(() => source.close())
  await new ApiKeyStore(source.apiKeys).seed([{ key: SEED, scopes: ['trigger:write'] }])
  const sourceSeedId = (await new ApiKeyStore(source.apiKeys).authenticate(SEED))?.id ?? ''
  const { key: created, record } = await new ApiKeyStore(source.apiKeys).create({ scopes: ['runs:read'] })
  await new ApiKeyStore(source.apiKeys).revoke(record.id)
  const deployments = new DeploymentStore(source.deployments)
  const old = await deployments.create({ manifest: MANIFEST, files: { 'flow.js': Buffer.from('old').toString('base64') } }, 1024)
  const current = await deployments.create({ manifest: MANIFEST, files: { 'flow.js': Buffer.from('new').toString('base64') } }, 1024)
  await deployments.activate(current.id)
  const ledger = new IdempotencyStore(source.idempotency, { retentionMs: 3_600_000 })
  const id = { owner: sourceSeedId, scope: 'POST /v1/runs', key: 'order-1' }
  const claim = await ledger.reserve(id, 'fp', 'wrun_A')
  assert.ok(claim.kind === 'claimed')
  await ledger.complete(id, claim.lease, 202, '{"runId":"wrun_A"}')
  for (const n of [1, 2, 3]) await new AuditLog(source.audit).record({ action: 'runs.trigger', outcome: 'success', correlationId: `c${n}`, actorKeyId: sourceSeedId })

  // The cluster's workers already seeded the same key: it has an id of its own there.
  await new ApiKeyStore(target.apiKeys).seed([{ key: SEED, scopes: ['trigger:write'] }])
  const targetSeedId = (await new ApiKeyStore(target.apiKeys).authenticate(SEED))?.id ?? ''
  assert.notEqual(targetSeedId, sourceSeedId)

  const first = await copyControlPlane(source, target)
  assert.deepEqual(first, {
    apiKeys: { found: 2, copied: 1 },
    deployments: { found: 2, copied: 2 },
    idempotencyRecords: { found: 1, copied: 1 },
    auditRows: { found: 3, copied: 3 },
    activeDeployment: { source: current.id, target: current.id }
  })
  const again = await copyControlPlane(source, target)
  assert.deepEqual([again.apiKeys.copied, again.deployments.copied, again.idempotencyRecords.copied, again.auditRows.copied], [0, 0, 0, 0])

  const keys = new ApiKeyStore(target.apiKeys)
  assert.equal(await keys.authenticate(created), undefined, 'still revoked')
  assert.ok((await keys.get(record.id))?.revokedAt)
  // The retry of a trigger made on the old worker replays its answer under the key's id here.
  assert.deepEqual(await new IdempotencyStore(target.idempotency, { retentionMs: 3_600_000 }).reserve({ ...id, owner: targetSeedId }, 'fp', 'wrun_B'),
    { kind: 'completed', reference: 'wrun_A', status: 202, bodyJson: '{"runId":"wrun_A"}' })
  const copied = new DeploymentStore(target.deployments)
  assert.equal(await copied.activeId(), current.id)
  assert.deepEqual((await copied.list(10)).data.map((d) => [d.id, d.digest]), [[current.id, current.digest], [old.id, old.digest]])
  assert.deepEqual((await new AuditLog(target.audit).recent(10)).map((row) => [row.metadata.correlationId, row.actorKeyId]),
    [['c3', targetSeedId], ['c2', targetSeedId], ['c1', targetSeedId]])
})
