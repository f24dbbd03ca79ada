import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildComputeWorkerApp } from '../../../server.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { KEYS, bearer, build, sqliteOf } from '../../helper.js'
import { fixtureFiles } from '../../public-lane.js'

const MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/a.ts': { run: { workflowId: 'workflow//./workflows/a//run' } } } }

test('deployments: upload, read, list, activate, with files stored atomically and hashed', async (t) => {
  const { app, options } = await build(t)
  const fixture = await buildFixtureApp()
  const files = await fixtureFiles(fixture)
  const post = (payload: unknown, key: string = KEYS.deployWrite) =>
    app.inject({ method: 'POST', url: '/v1/deployments', headers: bearer(key), payload: payload as object })

  const none = await app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })
  assert.equal(none.statusCode, 404)
  assert.equal(none.json().code, 'no_active_deployment')

  const created = await post({ manifest: fixture.manifest, files, labels: { gitSha: 'abc123' } })
  assert.equal(created.statusCode, 201, created.body)
  const deployment = created.json()
  assert.match(deployment.id, /^dpl_[0-9A-Z]{26}$/)
  assert.match(deployment.digest, /^sha256:[0-9a-f]{64}$/)
  assert.deepEqual(Object.keys(deployment).sort(), ['activatedAt', 'active', 'createdAt', 'digest', 'files', 'id', 'labels', 'workflows'])
  assert.equal(deployment.active, false)
  assert.equal(deployment.activatedAt, null)
  assert.deepEqual(deployment.labels, { gitSha: 'abc123' })
  assert.ok(deployment.workflows.includes('workflow//./workflows/demo//greet'))
  assert.equal(deployment.workflows.length, 11)
  // artifactDir/<id>/<name>, byte for byte, with the recorded sha256 — and nothing else.
  const dir = join(options.artifactDir as string, deployment.id)
  assert.deepEqual((await readdir(dir)).sort(), ['flow.js', 'step.js', 'webhook.js'])
  for (const file of deployment.files) {
    const bytes = await readFile(join(dir, file.name))
    assert.deepEqual(bytes, await readFile(join(fixture.dir, file.name)))
    assert.equal(file.size, bytes.length)
    assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'))
  }
  assert.deepEqual(await readdir(options.artifactDir as string), [deployment.id], 'no temporary directory left')

  // The same content gives the same digest; labels do not count.
  const again = (await post({ manifest: fixture.manifest, files, labels: { gitSha: 'other' } })).json()
  assert.equal(again.digest, deployment.digest)
  assert.notEqual(again.id, deployment.id)
  const manifestOnly = (await post({ manifest: MANIFEST })).json()
  assert.deepEqual(manifestOnly.files, [])

  const read = await app.inject({ method: 'GET', url: `/v1/deployments/${deployment.id}`, headers: bearer(KEYS.deployRead) })
  assert.deepEqual(read.json(), deployment)

  const activated = await app.inject({ method: 'POST', url: `/v1/deployments/${deployment.id}/activate`, headers: bearer(KEYS.deployWrite) })
  assert.equal(activated.statusCode, 200)
  assert.equal(activated.json().active, true)
  assert.ok(activated.json().activatedAt !== null)
  const moved = await app.inject({ method: 'POST', url: `/v1/deployments/${again.id}/activate`, headers: bearer(KEYS.deployWrite) })
  assert.equal(moved.json().active, true)
  const active = await app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })
  assert.equal(active.json().id, again.id)
  const previous = await app.inject({ method: 'GET', url: `/v1/deployments/${deployment.id}`, headers: bearer(KEYS.deployRead) })
  assert.equal(previous.json().active, false)
  assert.equal((sqliteOf(app).prepare('SELECT COUNT(*) AS n FROM active_deployment').get() as { n: number }).n, 1)

  // List: newest first, by pages, without repeats.
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/deployments?limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`
    const page = await app.inject({ method: 'GET', url, headers: bearer(KEYS.deployRead) })
    assert.equal(page.statusCode, 200)
    seen.push(...page.json().data.map((item: any) => item.id))
    cursor = page.json().cursor
  } while (cursor !== null)
  assert.deepEqual(seen, [manifestOnly.id, again.id, deployment.id])

  for (const url of ['/v1/deployments/dpl_nope', '/v1/deployments/dpl_nope/activate']) {
    const res = await app.inject({ method: url.endsWith('activate') ? 'POST' : 'GET', url, headers: bearer(KEYS.admin) })
    assert.equal(res.statusCode, 404)
    assert.equal(res.json().code, 'deployment_not_found')
  }
  assert.equal((await app.inject({ method: 'GET', url: '/v1/deployments?cursor=garbage', headers: bearer(KEYS.deployRead) })).statusCode, 400)

  // Audit: one row per mutating request.
  const actions = (await app.auditLog.recent(10)).map((row) => `${row.action}:${row.outcome}:${row.target}`)
  assert.ok(actions.includes(`deployments.create:success:${deployment.id}`))
  assert.ok(actions.includes(`deployments.activate:success:${again.id}`))
  assert.ok(actions.includes('deployments.activate:failure:dpl_nope'))
})

test('deployments refuse bad manifests, file names, base64, oversize and wrong keys', async (t) => {
  const { app, options } = await build(t, { maxDeploymentBytes: 1024 })
  const post = (payload: unknown, key: string = KEYS.deployWrite) =>
    app.inject({ method: 'POST', url: '/v1/deployments', headers: bearer(key), payload: payload as object })
  const b64 = (text: string) => Buffer.from(text).toString('base64')

  const badManifests = [
    {},
    { ...MANIFEST, version: { major: 1 } },
    { version: '1.0.0', steps: {} },
    { ...MANIFEST, workflows: { 'a.ts': { run: {} } } },
    { ...MANIFEST, workflows: { 'a.ts': { run: { workflowId: 'has spaces' } } } },
    { ...MANIFEST, workflows: ['nope'] }
  ]
  for (const manifest of badManifests) {
    const res = await post({ manifest })
    assert.equal(res.statusCode, 400, JSON.stringify(manifest))
    assert.equal(res.json().code, 'validation_error')
  }
  // A misspelled field is refused, not silently dropped.
  const extra = await post({ manifest: MANIFEST, label: { team: 'a' } })
  assert.equal(extra.statusCode, 400)
  assert.equal(extra.json().code, 'validation_error')

  for (const name of ['../escape.js', 'a/../../b.js', '/etc/passwd', 'dir\\file.js', 'nul\0.js', './flow.js', 'a//b.js', 'sp ace.js', '..', 'a/', 'x'.repeat(256)]) {
    const res = await post({ manifest: MANIFEST, files: { [name]: b64('x') } })
    assert.equal(res.statusCode, 400, JSON.stringify(name))
    assert.equal(res.json().code, 'validation_error')
  }
  for (const files of [{ 'f.js': 'not base64!' }, { 'f.js': 'abc' }, { 'a.js': b64('1'), 'a.js/b.js': b64('2') }, { 'A.js': b64('1'), 'a.js': b64('2') }]) {
    assert.equal((await post({ manifest: MANIFEST, files })).statusCode, 400, JSON.stringify(files))
  }
  assert.equal((await post({ manifest: MANIFEST, files: { 'nested/dir/ok.mjs': b64('export {}') } })).statusCode, 201)

  const tooBig = await post({ manifest: MANIFEST, files: { 'a.js': b64('x'.repeat(600)), 'b.js': b64('y'.repeat(600)) } })
  assert.equal(tooBig.statusCode, 413)
  assert.equal(tooBig.json().code, 'payload_too_large')
  // A body beyond the route's limit (base64 of the maximum plus room for the manifest) never gets parsed.
  const huge = await app.inject({ method: 'POST', url: '/v1/deployments', headers: { ...bearer(KEYS.deployWrite), 'content-type': 'application/json' }, payload: JSON.stringify({ manifest: MANIFEST, files: { 'a.js': 'A'.repeat(9 * 1024 * 1024) } }) })
  assert.equal(huge.statusCode, 413)
  assert.equal(huge.json().code, 'payload_too_large')
  assert.equal((await post({ manifest: MANIFEST, labels: { 'bad key!': 'v' } })).statusCode, 400)
  const malformed = await app.inject({ method: 'POST', url: '/v1/deployments', headers: { ...bearer(KEYS.deployWrite), 'content-type': 'application/json' }, payload: '{"manifest":' })
  assert.equal(malformed.statusCode, 400)

  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments', payload: { manifest: MANIFEST } })).statusCode, 401)
  assert.equal((await post({ manifest: MANIFEST }, KEYS.deployRead)).statusCode, 403)
  assert.equal((await app.inject({ method: 'GET', url: '/v1/deployments', headers: bearer(KEYS.deployWrite) })).statusCode, 403)
  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments/dpl_x/activate', headers: bearer(KEYS.deployRead) })).statusCode, 403)

  // Nothing refused left anything behind.
  const dirs = await readdir(options.artifactDir as string)
  assert.equal(dirs.length, 1)
  assert.equal((sqliteOf(app).prepare('SELECT COUNT(*) AS n FROM deployments').get() as { n: number }).n, 1)
  const failures = (await app.auditLog.recent(100)).filter((row) => row.action === 'deployments.create' && row.outcome !== 'success')
  assert.ok(failures.length >= 20)
})

test('a deployment whose row cannot be committed leaves no files behind', async (t) => {
  const { app, options } = await build(t)
  sqliteOf(app).exec("CREATE TRIGGER refuse_deployments BEFORE INSERT ON deployments BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
  const res = await app.inject({ method: 'POST', url: '/v1/deployments', headers: bearer(KEYS.deployWrite), payload: { manifest: MANIFEST, files: { 'flow.js': Buffer.from('x').toString('base64') } } })
  assert.equal(res.statusCode, 500)
  assert.deepEqual(await readdir(options.artifactDir as string), [])
})

test('restart keeps deployments and the active pointer', async (t) => {
  const first = await build(t)
  const created = (await first.app.inject({ method: 'POST', url: '/v1/deployments', headers: bearer(KEYS.deployWrite), payload: { manifest: MANIFEST } })).json()
  await first.app.inject({ method: 'POST', url: `/v1/deployments/${created.id}/activate`, headers: bearer(KEYS.deployWrite) })
  await first.app.close()
  const app = buildComputeWorkerApp(first.options)
  t.after(() => app.close())
  await app.ready()
  const active = await app.inject({ method: 'GET', url: '/v1/deployments/active', headers: bearer(KEYS.deployRead) })
  assert.equal(active.statusCode, 200)
  assert.equal(active.json().id, created.id)
  assert.equal(active.json().digest, created.digest)
})
