import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { describeError } from '../../../http/errors.js'
import { WorldLane } from '../../../lib/world-proxy/lane.js'
import { tempDir } from '../../helper.js'
import { runCreated } from '../../world-lane.js'

test('a stream the lane saw open and the World then closed refuses the next write once the open answer is stale', async (t) => {
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  const created = await world.events.create(null as unknown as string, runCreated() as Parameters<World['events']['create']>[1])
  const runId = created.run!.runId
  const lane = new WorldLane(world, { streamOpenRecheckMs: 0 })

  await lane.writeToStream('strm_shared', runId, ['a'])
  await world.closeStream('strm_shared', runId)
  const refused = await lane.writeToStream('strm_shared', runId, ['b']).then(() => assert.fail('expected a rejection'), (error: unknown) => error)
  assert.deepEqual(describeError(refused, { worldLane: true }), { statusCode: 409, code: 'stream_closed', message: 'Stream strm_shared is closed', details: { name: 'EntityConflictError' }, headers: undefined })
  assert.deepEqual(await world.getStreamInfo('strm_shared', runId), { tailIndex: 0, done: true })
})
