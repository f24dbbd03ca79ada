import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { hasValidChecksum } from '../../lib/api-key-format.js'
import { bearer, tempDir } from '../helper.js'
import { freshDatabase, needsPostgres, postgresWorkerEnv } from '../postgres.js'
import { runBin, startStandalone } from '../standalone.js'

async function sqliteEnv (t: TestContext): Promise<Record<string, string>> {
  return { COMPUTE_WORKER_SQLITE_PATH: join(await tempDir(t), 'worker.db') }
}

async function json (env: Record<string, string>, args: string[]): Promise<any> {
  const { code, output } = await runBin(env, args)
  assert.equal(code, 0, output)
  return JSON.parse(output)
}

test('keys create/list/revoke --json: the key is shown once, list never shows it', async (t) => {
  const env = await sqliteEnv(t)
  const created = await json(env, ['keys', 'create', '--scopes', 'runs:read,trigger:write', '--name', 'deployer', '--rate-limit', '120', '--json'])
  assert.ok(hasValidChecksum(created.key))
  assert.match(created.id, /^key_/)
  assert.deepEqual(created.scopes, ['runs:read', 'trigger:write'])
  assert.equal(created.name, 'deployer')
  assert.equal(created.rateLimitPerMinute, 120)

  const listed = await json(env, ['keys', 'list', '--json'])
  assert.equal(listed.length, 1)
  assert.deepEqual(Object.keys(listed[0]).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'rateLimitPerMinute', 'revokedAt', 'scopes', 'source'])
  assert.equal(listed[0].id, created.id)
  assert.equal(listed[0].revokedAt, null)

  const revoked = await json(env, ['keys', 'revoke', created.id, '--json'])
  assert.equal(revoked.revokedNow, true)
  assert.ok(revoked.revokedAt)
  const again = await json(env, ['keys', 'revoke', created.id, '--json'])
  assert.equal(again.revokedNow, false, 'revoking twice is not an error')
  assert.equal((await json(env, ['keys', 'list', '--json']))[0].revokedAt, revoked.revokedAt)
})

test('keys create prints the bare key on stdout; keys list prints a table without it', async (t) => {
  const env = await sqliteEnv(t)
  const { code, output } = await runBin(env, ['keys', 'create', '--scopes', 'deploy:read', '--scopes', 'deploy:write'])
  assert.equal(code, 0, output)
  const keyLines = output.split('\n').filter((line) => line.startsWith('cw_'))
  assert.equal(keyLines.length, 1, output)
  const key = keyLines[0]
  assert.ok(hasValidChecksum(key), output)
  assert.match(output, /with deploy:read, deploy:write/)
  assert.match(output, /shown only this once/)

  const list = await runBin(env, ['keys', 'list'])
  assert.equal(list.code, 0)
  assert.match(list.output, /^ID\s+NAME\s+SCOPES\s+CREATED\s+LAST USED\s+REVOKED/)
  assert.match(list.output, /deploy:read,deploy:write/)
  assert.equal(list.output.includes(key), false)
})

test('keys commands refuse bad input with a clear message and a non-zero exit', async (t) => {
  const env = await sqliteEnv(t)
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['keys', 'create', '--scopes', 'runs:read,root'], /unknown scope "root"; known scopes: trigger:write, runs:read/],
    [['keys', 'create'], /--scopes is required/],
    [['keys', 'create', '--scopes', 'runs:read', '--rate-limit', 'lots'], /--rate-limit must be a positive integer/],
    [['keys', 'create', '--scopes', 'runs:read', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['keys', 'revoke', 'key_unknown'], /no API key with id "key_unknown"/],
    [['keys', 'revoke'], /give exactly one key id/],
    [['keys', 'rotate'], /unknown subcommand "rotate"/],
    [['keys'], /missing subcommand/],
    [['keys', 'list'], /:memory:/, { COMPUTE_WORKER_SQLITE_PATH: ':memory:' }]
  ]
  for (const [args, message, override] of cases) {
    const { code, output } = await runBin({ ...env, ...override }, args)
    assert.equal(code, 1, `${args.join(' ')}: ${output}`)
    assert.match(output, message, args.join(' '))
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace')
  }
  assert.deepEqual(await json(env, ['keys', 'list', '--json']), [], 'nothing was created')
})

test('a key created by the CLI works on a running server at once, and stops working on the next request after revoke', async (t) => {
  const env = { ...await sqliteEnv(t), COMPUTE_WORKER_COMPUTE: 'none', WORKFLOW_LOCAL_DATA_DIR: join(await tempDir(t), 'world') }
  const worker = await startStandalone(t, env)
  const created = await json(env, ['keys', 'create', '--scopes', 'runs:read', '--rate-limit', '77', '--json'])

  // Until the public routes land, the key's own rate limit shows that the server identified it.
  const identified = await fetch(`${worker.url}/v1/unknown-route`, { headers: bearer(created.key) })
  assert.equal(identified.headers.get('x-ratelimit-limit'), '77')
  const [used] = await json(env, ['keys', 'list', '--json'])
  assert.ok(used.lastUsedAt !== null, 'the server recorded the use in the shared file')

  await json(env, ['keys', 'revoke', created.id, '--json'])
  const afterRevoke = await fetch(`${worker.url}/v1/unknown-route`, { headers: bearer(created.key) })
  assert.equal(afterRevoke.headers.get('x-ratelimit-limit'), '600', 'the revoked key is no longer identified')
})

test('on PostgreSQL, a key revoked by the CLI is refused by a running worker that had it cached', needsPostgres, async (t) => {
  const env = await postgresWorkerEnv(t, await freshDatabase(t), { COMPUTE_WORKER_COMPUTE: 'none' })
  const worker = await startStandalone(t, env)
  const created = await json(env, ['keys', 'create', '--scopes', 'runs:read', '--rate-limit', '77', '--json'])
  const identified = async (): Promise<boolean> =>
    (await fetch(`${worker.url}/v1/unknown-route`, { headers: bearer(created.key) })).headers.get('x-ratelimit-limit') === '77'
  // The worker's notification connection opens with its first lookup; from then on the key is served from its cache.
  for (let i = 0; i < 20; i++) assert.equal(await identified(), true)

  await json(env, ['keys', 'revoke', created.id, '--json'])
  assert.equal(await identified(), false, 'the revoked key is no longer identified')
})
