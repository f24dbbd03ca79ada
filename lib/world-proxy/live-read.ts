import { encodeFrame, FrameKind } from '../wire/frames.js'

export interface LiveReadOptions {
  /** Absolute index of the first chunk the source yields. */
  startIndex: number
  /** A PING after this long without another frame keeps proxies from idling the body out. */
  pingIntervalMs: number
  /** The error envelope an ERROR frame carries when the source fails. */
  describeError: (error: unknown) => object
  /** Called once, however the read ends (END, ERROR, client gone, `stop()`). */
  onRelease: () => void
}

export interface LiveRead {
  frames: ReadableStream<Uint8Array>
  /** Ends the body now (worker shutting down); the client resumes from its last index elsewhere. */
  stop: () => void
}

type Pending = Promise<ReadableStreamReadResult<Uint8Array>>

/**
 * Turns a World's live `readFromStream` into frames: a PING at once (so the 200 and its headers
 * go out before any chunk exists), one DATA frame per chunk with its absolute index, END when
 * the writer closed the stream, ERROR if the World fails. Pull-based, so the World's reader is
 * only read as fast as the socket drains. Cancelling the frames (the client went away) cancels
 * the World's reader: world-local then drops its listeners and its 100 ms poller.
 */
export function framesFromWorldStream (source: ReadableStream<Uint8Array>, options: LiveReadOptions): LiveRead {
  const reader = source.getReader()
  let index = options.startIndex
  let pending: Pending | undefined
  let released = false
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined
  let pingTimer: NodeJS.Timeout | undefined

  function release (): void {
    if (released) return
    released = true
    clearTimeout(pingTimer)
    reader.cancel().catch(() => {})
    options.onRelease()
  }

  function nextOrPing (): Promise<ReadableStreamReadResult<Uint8Array> | 'ping'> {
    pending ??= reader.read()
    return Promise.race([
      pending,
      new Promise<'ping'>((resolve) => { pingTimer = setTimeout(resolve, options.pingIntervalMs, 'ping') })
    ]).finally(() => clearTimeout(pingTimer))
  }

  const frames = new ReadableStream<Uint8Array>({
    start (controller) {
      controllerRef = controller
      controller.enqueue(encodeFrame(FrameKind.PING, 0))
    },
    async pull (controller) {
      try {
        for (;;) {
          const next = await nextOrPing()
          if (released) return
          if (next === 'ping') {
            controller.enqueue(encodeFrame(FrameKind.PING, 0))
            return
          }
          pending = undefined
          if (next.done) {
            controller.enqueue(encodeFrame(FrameKind.END, index))
            controller.close()
            release()
            return
          }
          // Zero-length chunks are never stored by the lane; skipping keeps indices absolute.
          if (next.value.byteLength === 0) continue
          controller.enqueue(encodeFrame(FrameKind.DATA, index++, next.value))
          return
        }
      } catch (error) {
        if (released) return
        const envelope = new TextEncoder().encode(JSON.stringify(options.describeError(error)))
        controller.enqueue(encodeFrame(FrameKind.ERROR, index, envelope))
        controller.close()
        release()
      }
    },
    cancel () {
      release()
    }
  }, { highWaterMark: 0 })

  return {
    frames,
    stop () {
      if (released) return
      release()
      try { controllerRef?.close() } catch {}
    }
  }
}
