import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SettingsError, readStandaloneSettings } from '../../bin/env.js'

test('readStandaloneSettings reads the in-process executor settings and the proxy trust from env', () => {
  const settings = readStandaloneSettings({
    COMPUTE_WORKER_DELIVERY_SECRET: ' s3cret ',
    COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS: '3',
    COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB: '256',
    COMPUTE_WORKER_TRUST_PROXY: '10.0.0.1, 10.0.0.2'
  })
  // The delivery secret is the World's (outgoing deliveries) and the executor's (incoming ones).
  assert.equal(settings.deliverySecret, 's3cret')
  assert.deepEqual(settings.inProcess, { maxLoadedDeployments: 3, threadMemoryMb: 256 })
  assert.deepEqual(settings.options.trustProxy, ['10.0.0.1', '10.0.0.2'])
})

test('readStandaloneSettings leaves unset or empty settings to the defaults', () => {
  const settings = readStandaloneSettings({ COMPUTE_WORKER_DELIVERY_SECRET: '', COMPUTE_WORKER_TRUST_PROXY: ' ' })
  assert.equal(settings.deliverySecret, undefined)
  assert.deepEqual(settings.inProcess, { maxLoadedDeployments: undefined, threadMemoryMb: undefined })
  assert.equal(settings.options.trustProxy, undefined)
  assert.equal(settings.compute, 'in-process')
})

test('COMPUTE_WORKER_UI turns the dashboard off; its session limits are read in minutes and hours', () => {
  const ui = (env: Record<string, string>): unknown => readStandaloneSettings(env).options.ui
  assert.equal(ui({}), true)
  assert.equal(ui({ COMPUTE_WORKER_UI: 'false' }), false)
  assert.equal(ui({ COMPUTE_WORKER_UI: 'true' }), true)
  assert.deepEqual(ui({ COMPUTE_WORKER_UI_SESSION_IDLE_MINUTES: '15', COMPUTE_WORKER_UI_SESSION_MAX_HOURS: '8' }), { sessionIdleMinutes: 15, sessionMaxHours: 8 })
})

test('COMPUTE_WORKER_TRUST_PROXY: true/false words and a hop count', () => {
  const trust = (value: string): unknown => readStandaloneSettings({ COMPUTE_WORKER_TRUST_PROXY: value }).options.trustProxy
  assert.equal(trust('true'), true)
  assert.equal(trust('ON'), true)
  assert.equal(trust('false'), false)
  assert.equal(trust('0'), 0)
  assert.equal(trust('2'), 2)
  assert.deepEqual(trust('127.0.0.1'), ['127.0.0.1'])
})

test('a bad value is a SettingsError that names the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS: '0' }, 'COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS'],
    [{ COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS: 'many' }, 'COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS'],
    [{ COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB: '16' }, 'COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB'],
    [{ COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB: '1.5' }, 'COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB'],
    [{ COMPUTE_WORKER_COMPUTE: 'remote' }, 'COMPUTE_WORKER_COMPUTE'],
    [{ COMPUTE_WORKER_REQUIRE_HTTPS: 'maybe' }, 'COMPUTE_WORKER_REQUIRE_HTTPS'],
    [{ COMPUTE_WORKER_UI: 'perhaps' }, 'COMPUTE_WORKER_UI'],
    [{ COMPUTE_WORKER_UI_SESSION_IDLE_MINUTES: '0' }, 'COMPUTE_WORKER_UI_SESSION_IDLE_MINUTES']
  ]
  for (const [env, variable] of cases) {
    assert.throws(() => readStandaloneSettings(env), (error: unknown) => {
      assert.ok(error instanceof SettingsError, `${variable}: ${String(error)}`)
      assert.ok(error.message.startsWith(`${variable} `), error.message)
      assert.match(error.message, new RegExp(`"${Object.values(env)[0].replace('.', '\\.')}"`))
      return true
    })
  }
})
