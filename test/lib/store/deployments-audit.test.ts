import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeFiles } from '../../../lib/deployments/files.js'
import { DeploymentStore } from '../../../lib/deployments/store.js'
import { AuditLog } from '../../../lib/store/audit-log.js'
import { eachBackend } from './backends.js'

const MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/a.ts': { greet: { workflowId: 'workflow//a//greet' } } } }
const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64')
// Over two chunks on PostgreSQL, and not a multiple of the chunk size.
const LARGE = Buffer.alloc(2 * 1024 * 1024 + 12_345, 7)

eachBackend('deployments: created whole with their files, listed newest first in pages, got, activated', async (_t, { controlPlane, another }) => {
  const store = new DeploymentStore(controlPlane.deployments)
  const first = await store.create({ manifest: MANIFEST, files: { 'flow.js': b64('one'), 'assets/big.bin': LARGE.toString('base64') }, labels: { env: 'ci' } }, 8 * 1024 * 1024)
  const second = await store.create({ manifest: MANIFEST, files: { 'flow.js': b64('two') } }, 1024)
  const third = await store.create({ manifest: MANIFEST }, 1024)
  assert.deepEqual(first.files.map((file) => [file.name, file.size]), [['assets/big.bin', LARGE.length], ['flow.js', 3]])
  assert.deepEqual([first.workflows, first.labels, first.active, first.activatedAt], [['workflow//a//greet'], { env: 'ci' }, false, null])
  assert.deepEqual(await store.get(first.id), first)
  assert.equal(await store.get('dpl_missing'), undefined)
  await assert.rejects(store.require('dpl_missing'), { code: 'deployment_not_found' })
  await assert.rejects(store.activate('dpl_missing'), { code: 'deployment_not_found' })
  assert.equal(await store.activeId(), undefined)

  const page1 = await store.list(2)
  assert.deepEqual(page1.data.map((d) => d.id), [third.id, second.id])
  assert.ok(page1.hasMore && page1.cursor !== null)
  const page2 = await store.list(2, page1.cursor)
  assert.deepEqual([page2.data.map((d) => d.id), page2.hasMore, page2.cursor], [[first.id], false, null])
  await assert.rejects(store.list(2, 'garbage'), { code: 'validation_error' })

  // Activated on one worker, the pointer every worker reads.
  const activated = await store.activate(first.id)
  assert.ok(activated.active && activated.activatedAt !== null)
  const elsewhere = new DeploymentStore((await another()).deployments)
  assert.equal(await elsewhere.activeId(), first.id)
  assert.equal((await elsewhere.getActive())?.id, first.id)
  await elsewhere.activate(second.id)
  assert.equal(await store.activeId(), second.id)
  assert.deepEqual((await store.list(10)).data.map((d) => d.active), [false, true, false])
  assert.deepEqual((await store.workflows(first.id)).map((w) => w.exportName), ['greet'])

  // Every worker can load the files, byte for byte (a worker on PostgreSQL fetches them into its own directory).
  const otherWorker = await another()
  const dir = await otherWorker.deployments.localDirectory(first.id)
  assert.ok(dir !== undefined)
  assert.deepEqual(await readFile(join(dir, 'assets/big.bin')), LARGE)
  assert.equal(await readFile(join(dir, 'flow.js'), 'utf8'), 'one')
  assert.deepEqual(await otherWorker.deployments.readFile(first.id, first.files[0]), LARGE)
  assert.equal(await otherWorker.deployments.localDirectory('dpl_missing'), undefined)
})

eachBackend('deployments: an upload that fails midway leaves nothing behind, for any worker', async (_t, { controlPlane, another }) => {
  const [file] = decodeFiles({ 'flow.js': b64('x') }, 1024)
  const record = {
    id: 'dpl_01JD8Q7W3X9V2C4N6B8M0K2H4F',
    digest: 'sha256:x',
    manifestJson: JSON.stringify(MANIFEST),
    workflows: [],
    labels: {},
    files: [{ name: 'flow.js', size: 1, sha256: file.sha256 }],
    createdByKeyId: null,
    createdAt: Date.now(),
    activatedAt: null
  }
  // The same file name twice cannot be stored: the second write fails after the first.
  await assert.rejects(controlPlane.deployments.insert(record, [file, file]))
  assert.equal(await controlPlane.deployments.get(record.id), undefined)
  assert.equal(await (await another()).deployments.localDirectory(record.id), undefined)
  assert.equal(await controlPlane.deployments.insert(record, [file]), true)
  assert.equal(await controlPlane.deployments.insert(record, [file], { ifAbsent: true }), false, 'an import of a present deployment is a no-op')
  await assert.rejects(controlPlane.deployments.insert(record, [file]), 'the same id twice')
  assert.ok(await controlPlane.deployments.get(record.id))
})

eachBackend('deployments: a cached file that is missing or corrupted is fetched again before it is loaded', async (_t, { name, controlPlane, artifactDir, another }) => {
  const store = new DeploymentStore(controlPlane.deployments)
  const deployment = await store.create({ manifest: MANIFEST, files: { 'flow.js': b64('export const ok = 1'), 'lib/step.js': b64('step') } }, 1024)
  if (name === 'sqlite') {
    // The directory is the deployment itself on SQLite: nothing to fetch again from.
    assert.equal(await store.localDirectory(deployment.id), join(artifactDir, deployment.id))
    return
  }
  const worker = await another()
  const dir = await worker.deployments.localDirectory(deployment.id)
  assert.ok(dir !== undefined)
  await writeFile(join(dir, 'flow.js'), 'export const ok = 666 // tampered')
  await rm(join(dir, 'lib/step.js'))
  assert.equal(await worker.deployments.localDirectory(deployment.id), dir)
  assert.equal(await readFile(join(dir, 'flow.js'), 'utf8'), 'export const ok = 1')
  assert.equal(await readFile(join(dir, 'lib/step.js'), 'utf8'), 'step')
})

eachBackend('deployments: the start-up sweep removes what an interrupted upload left, keeps live deployments and fresh entries', async (_t, { controlPlane, artifactDir }) => {
  const store = new DeploymentStore(controlPlane.deployments)
  const live = await store.create({ manifest: MANIFEST, files: { 'flow.js': b64('x') } }, 1024)
  await store.localDirectory(live.id)
  const old = new Date(Date.now() - 3_600_000)
  for (const entry of ['.tmp-dpl_CRASHED', 'dpl_ROWLESS', 'dpl_FRESH_ROWLESS']) {
    await mkdir(join(artifactDir, entry), { recursive: true })
    await writeFile(join(artifactDir, entry, 'flow.js'), 'partial')
    if (entry !== 'dpl_FRESH_ROWLESS') await utimes(join(artifactDir, entry), old, old)
  }
  await utimes(join(artifactDir, live.id), old, old)
  assert.deepEqual((await store.sweepOrphans()).sort(), ['.tmp-dpl_CRASHED', 'dpl_ROWLESS'])
  assert.deepEqual((await readdir(artifactDir)).sort(), ['dpl_FRESH_ROWLESS', live.id].sort())
})

eachBackend('audit: rows recorded, found by correlation id, filtered and paged newest first; imports once', async (_t, { controlPlane, separate }) => {
  const log = new AuditLog(controlPlane.audit)
  for (let i = 0; i < 5; i++) {
    await log.record({ action: i % 2 === 0 ? 'runs.trigger' : 'runs.cancel', outcome: 'success', correlationId: `corr-${i % 3}`, actorKeyId: i < 3 ? 'key_a' : null, runId: `wrun_${i}`, target: 't', metadata: { n: i } })
  }
  const byCorrelation = await log.findByCorrelationId('corr-0')
  assert.deepEqual(byCorrelation.map((row) => row.metadata.n), [0, 3], 'oldest first')
  assert.deepEqual(byCorrelation[0].metadata, { n: 0, correlationId: 'corr-0', runId: 'wrun_0' })
  assert.equal(byCorrelation[0].actorKeyId, 'key_a')
  assert.match(byCorrelation[0].at, /^\d{4}-\d\d-\d\dT/)
  assert.deepEqual((await log.recent(2)).map((row) => row.metadata.n), [4, 3])

  const triggers = await log.query({ action: 'runs.trigger' }, 2)
  assert.deepEqual([triggers.data.map((row) => row.metadata.n), triggers.hasMore], [[4, 2], true])
  const rest = await log.query({ action: 'runs.trigger' }, 2, triggers.cursor ?? undefined)
  assert.deepEqual([rest.data.map((row) => row.metadata.n), rest.hasMore, rest.cursor], [[0], false, null])
  assert.deepEqual((await log.query({ actorKeyId: 'key_a', correlationId: 'corr-1' }, 10)).data.map((row) => row.metadata.n), [1])
  await assert.rejects(log.query({}, 10, 'not-a-cursor'), { code: 'validation_error' })

  const target = await separate()
  const rows = (await controlPlane.audit.query({}, 100)).reverse().map(({ id, ...row }) => ({ ...row, importKey: `src:${id}` }))
  assert.equal(await target.audit.import(rows), 5)
  assert.equal(await target.audit.import(rows), 0)
  assert.deepEqual((await new AuditLog(target.audit).recent(10)).map((row) => row.metadata.n), [4, 3, 2, 1, 0], 'in their order')
})
