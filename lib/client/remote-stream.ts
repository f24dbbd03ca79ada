import { WorkflowWorldError } from '@workflow/errors'
import { STREAM_START_INDEX_HEADER } from '../headers.js'
import { FrameDecoder, FrameKind } from '../wire/frames.js'
import { errorFromWire, type WorldErrorBody } from '../wire/world-errors.js'
import { sleep } from './transport.js'
import type { WorldCalls } from './world-calls.js'

/** Reconnects in a row without a new chunk before giving up (@workflow/core's FRAMED_STREAM_MAX_RECONNECTS). */
export const MAX_RECONNECTS_WITHOUT_PROGRESS = 50

/**
 * The remote `readFromStream`: one `Uint8Array` per stored chunk (the runtime detects its
 * framing from the first chunk's first bytes, so HTTP body slices must not reach it), closing on
 * END, failing with the World's error on ERROR. A body cut before END is resumed transparently
 * from the next absolute index, even for a read that began at a negative index.
 */
export async function readRemoteStream (
  calls: WorldCalls,
  name: string,
  startIndex = 0,
  maxReconnects = MAX_RECONNECTS_WITHOUT_PROGRESS
): Promise<ReadableStream<Uint8Array>> {
  const aborter = new AbortController()
  const open = async (from: number): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
    const response = await calls.open({
      method: 'GET',
      path: '/v1/world/streams/read',
      query: { name, startIndex: from },
      safe: true,
      deadline: false,
      signal: aborter.signal
    })
    const resolved = Number(response.headers.get(STREAM_START_INDEX_HEADER))
    nextIndex = Number.isInteger(resolved) ? resolved : Math.max(0, from)
    if (response.body === null) throw new WorkflowWorldError('The stream read answered without a body', { code: 'TRANSPORT' })
    return response.body.getReader()
  }

  let nextIndex = Math.max(0, startIndex)
  let body = await open(startIndex)
  let decoder = new FrameDecoder()
  let reconnects = 0

  async function reconnect (cause: unknown): Promise<void> {
    reconnects++
    if (reconnects > maxReconnects) {
      throw new WorkflowWorldError(`Stream ${name} kept dropping before its end`, { code: 'TRANSPORT', cause })
    }
    await sleep(calls.backoff(reconnects), aborter.signal)
    body = await open(nextIndex)
    decoder = new FrameDecoder()
  }

  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      for (;;) {
        let read: ReadableStreamReadResult<Uint8Array>
        try {
          read = await body.read()
        } catch (error) {
          if (aborter.signal.aborted) return
          await reconnect(error)
          continue
        }
        if (read.done) {
          await reconnect(new Error('the body ended before the stream did'))
          continue
        }
        let delivered = false
        for (const frame of decoder.push(read.value)) {
          if (frame.kind === FrameKind.DATA) {
            if (frame.index < nextIndex) continue
            nextIndex = frame.index + 1
            reconnects = 0
            if (frame.payload.byteLength === 0) continue
            controller.enqueue(frame.payload)
            delivered = true
          } else if (frame.kind === FrameKind.END) {
            aborter.abort()
            controller.close()
            return
          } else if (frame.kind === FrameKind.ERROR) {
            aborter.abort()
            const envelope = JSON.parse(new TextDecoder().decode(frame.payload)) as WorldErrorBody & { status?: number }
            throw errorFromWire(envelope.status ?? 500, envelope, null)
          }
        }
        if (delivered) return
      }
    },
    cancel (reason) {
      aborter.abort(reason)
    }
  }, { highWaterMark: 0 })
}
