import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { OptionsError, resolveOptions } from '../../lib/options.js'
import { tempDir } from '../helper.js'

test('timing options: unset leaves each plugin its default; bad values stop start-up with the option named', async (t) => {
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  const unset = resolveOptions({ world })
  assert.deepEqual([unset.idempotencyWaitMs, unset.auditWindowMs, unset.lanePingIntervalMs], [undefined, undefined, undefined])
  const set = resolveOptions({ world, idempotencyWaitMs: 0, auditWindowMs: 10, lanePingIntervalMs: 20 })
  assert.deepEqual([set.idempotencyWaitMs, set.auditWindowMs, set.lanePingIntervalMs], [0, 10, 20])
  for (const [option, value] of [['idempotencyWaitMs', -1], ['auditWindowMs', 0], ['lanePingIntervalMs', 1.5], ['idempotencyWaitMs', '5']] as const) {
    assert.throws(() => resolveOptions({ world, [option]: value }), (error: unknown) =>
      error instanceof OptionsError && error.message.includes(`"${option}"`), `${option}: ${value}`)
  }
})
