import type { World } from '@workflow/world'

/**
 * Where a read from `startIndex` begins: a negative index counts back from the stream's current
 * end, resolved once here because the World's own reader does not say where it started.
 */
export async function absoluteStreamStart (world: World, name: string, runId: string, startIndex: number): Promise<number> {
  if (startIndex >= 0) return startIndex
  return Math.max(0, (await world.getStreamInfo(name, runId)).tailIndex + 1 + startIndex)
}
