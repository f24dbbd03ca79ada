import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLocalWorld } from '@workflow/world-local'
import { framesFromWorldStream } from '../../../lib/world-proxy/live-read.js'
import { FrameDecoder, FrameKind } from '../../../lib/wire/frames.js'
import { tempDir } from '../../helper.js'

test('a silent stream sends PINGs; chunks carry absolute indices from the resolved start; release happens once', async (t) => {
  const world = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  for (const chunk of ['a', 'b', 'c']) await world.writeToStream('strm_ping', 'wrun_1', chunk)
  let releases = 0
  const read = framesFromWorldStream(await world.readFromStream('strm_ping', 2), {
    startIndex: 2,
    pingIntervalMs: 20,
    describeError: () => ({}),
    onRelease: () => { releases++ }
  })
  const reader = read.frames.getReader()
  const decoder = new FrameDecoder()
  const next = async () => decoder.push((await reader.read()).value!)[0]
  assert.equal((await next()).kind, FrameKind.PING, 'at once, so headers leave before any chunk')
  assert.deepEqual(await next().then((frame) => [frame.kind, frame.index]), [FrameKind.DATA, 2])
  assert.equal((await next()).kind, FrameKind.PING, 'nothing for a while')
  await world.writeToStream('strm_ping', 'wrun_1', 'd')
  let frame = await next()
  while (frame.kind === FrameKind.PING) frame = await next()
  assert.deepEqual([frame.kind, frame.index, Buffer.from(frame.payload).toString()], [FrameKind.DATA, 3, 'd'])
  await world.closeStream('strm_ping', 'wrun_1')
  frame = await next()
  while (frame.kind === FrameKind.PING) frame = await next()
  assert.deepEqual([frame.kind, frame.index], [FrameKind.END, 4])
  assert.equal((await reader.read()).done, true)
  read.stop()
  assert.equal(releases, 1)
})
