import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { readStandaloneSettings } from '../../bin/env.js'
import { createWorldForTarget } from '../../lib/world/create-world.js'
import { newUlid } from '../../lib/ulid.js'
import { tempDir } from '../helper.js'

const WORLD_LOCAL_URL = import.meta.resolve('@workflow/world-local')

test('WORKFLOW_TARGET_WORLD naming another module: its createWorld() is the World', async (t) => {
  const dir = await tempDir(t)
  const dataDir = join(dir, 'data')
  // A World module of the user's own, outside the worker's dependencies, given by path.
  const modulePath = join(dir, 'my-world.mjs')
  await writeFile(modulePath, `
import { createLocalWorld } from ${JSON.stringify(WORLD_LOCAL_URL)}
export function createWorld () {
  return createLocalWorld({ dataDir: ${JSON.stringify(dataDir)} })
}
`)
  // As `compute-worker serve` does: the target from the environment.
  const settings = readStandaloneSettings({ WORKFLOW_TARGET_WORLD: modulePath })
  assert.equal(settings.targetWorld, modulePath)
  const world = createWorldForTarget({ target: settings.targetWorld })
  t.after(async () => { await world.close?.() })

  // A real World, on the data dir the module chose: a run written through it is there.
  const runId = `wrun_${newUlid()}`
  await world.events.create(runId, {
    eventType: 'run_created',
    specVersion: world.specVersion,
    eventData: { deploymentId: 'dpl_module', workflowName: 'workflow//./workflows/demo//greet', input: [], executionContext: {} }
  } as never)
  const run = await world.runs.get(runId)
  assert.equal(run.deploymentId, 'dpl_module')
  assert.equal(run.status, 'pending')
  const direct = createLocalWorld({ dataDir })
  assert.equal((await direct.runs.get(runId)).deploymentId, 'dpl_module')
})

test('a default-exported factory is used when there is no createWorld; a module with neither is refused', async (t) => {
  const dir = await tempDir(t)
  const byDefault = join(dir, 'default-world.mjs')
  await writeFile(byDefault, `
import { createLocalWorld } from ${JSON.stringify(WORLD_LOCAL_URL)}
export default () => createLocalWorld({ dataDir: ${JSON.stringify(join(dir, 'data'))} })
`)
  const world = createWorldForTarget({ target: byDefault })
  t.after(async () => { await world.close?.() })
  assert.equal(typeof world.events.create, 'function')
  assert.deepEqual((await world.runs.list({})).data, [])

  const neither = join(dir, 'not-a-world.mjs')
  await writeFile(neither, 'export const answer = 42\n')
  assert.throws(() => createWorldForTarget({ target: neither }), /exports neither createWorld nor a default factory/)
})
