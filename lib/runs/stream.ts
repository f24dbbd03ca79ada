import { Readable } from 'node:stream'
import { getDeserializeStream } from '@workflow/core/serialization'
import { isTerminalWorkflowRunStatus, type World } from '@workflow/world'
import { getWorkflowRunStreamId } from '../sdk/core-internals.js'
import { publicRevivers, runEncryptionKey, toJsonValue } from './view.js'
import { absoluteStreamStart } from '../world/streams.js'

/** One stored chunk of the stream, decoded: usually one value (the SDK writes one frame per chunk). */
export interface StreamChunk {
  index: number
  values: unknown[]
}

export interface RunStream {
  /** The absolute index of the first chunk this stream yields. */
  startIndex: number
  /** The next chunk, or null once the writer closed the stream (or `cancel` was called). */
  next (): Promise<StreamChunk | null>
  /** True when the run is over and every chunk it wrote was read, though it never closed the stream. */
  exhausted (): Promise<boolean>
  /** Releases the World's reader (its listeners and pollers). */
  cancel (): Promise<void>
}

/**
 * Opens the run's default output stream (the one `Run.getReadable()` reads) on the World,
 * from `startIndex` (negative: that many chunks before the current end), each chunk decoded
 * the SDK's way (`getDeserializeStream` with the run's key).
 */
export async function openRunStream (world: World, runId: string, startIndex = 0): Promise<RunStream> {
  const run = await world.runs.get(runId, { resolveData: 'none' })
  const name = getWorkflowRunStreamId(runId)
  const start = await absoluteStreamStart(world, name, runId, startIndex)
  const key = await runEncryptionKey(world, run)
  const revivers = publicRevivers().output
  const reader = (await world.readFromStream(name, start)).getReader()
  let index = start
  return {
    startIndex: start,
    async next () {
      const { done, value } = await reader.read()
      if (done) return null
      return { index: index++, values: await decodeChunk(value, revivers, key) }
    },
    async exhausted () {
      const now = await world.runs.get(runId, { resolveData: 'none' })
      if (!isTerminalWorkflowRunStatus(now.status)) return false
      return (await world.getStreamInfo(name, runId)).tailIndex < index
    },
    async cancel () {
      await reader.cancel()
    }
  }
}

async function decodeChunk (chunk: Uint8Array, revivers: ReturnType<typeof publicRevivers>['output'], key: CryptoKey | undefined): Promise<unknown[]> {
  const values: unknown[] = []
  const decoded = new ReadableStream<Uint8Array>({
    start (controller) {
      controller.enqueue(chunk)
      controller.close()
    }
  }).pipeThrough(getDeserializeStream(revivers, key))
  for await (const value of decoded as unknown as AsyncIterable<unknown>) values.push(toJsonValue(value))
  return values
}

export type StreamFormat = 'sse' | 'ndjson'

/** How each format writes a value, the end and an error (also the OpenAPI examples' source). */
export const streamFrames = {
  sse: {
    chunk: (index: number, value: unknown) => `id: ${index}\ndata: ${JSON.stringify(value ?? null)}\n\n`,
    end: (nextIndex: number) => `event: end\ndata: ${JSON.stringify({ nextIndex })}\n\n`,
    error: (message: string) => `event: error\ndata: ${JSON.stringify({ code: 'stream_error', message })}\n\n`,
    ping: ': ping\n\n' as string | undefined
  },
  ndjson: {
    chunk: (index: number, value: unknown) => JSON.stringify({ index, value: value ?? null }) + '\n',
    end: (nextIndex: number) => JSON.stringify({ end: true, nextIndex }) + '\n',
    error: (message: string) => JSON.stringify({ error: { code: 'stream_error', message } }) + '\n',
    ping: undefined as string | undefined
  }
}

export interface StreamBodyOptions {
  /** How often to check whether the run ended without closing its stream. */
  checkIntervalMs?: number
  /** SSE keep-alive comment interval. */
  pingIntervalMs?: number
  onError?: (error: unknown) => void
  /** Ends the body without an `end` frame (the server is shutting down: the client should reconnect). */
  signal?: AbortSignal
}

/**
 * The stream as an HTTP body: one SSE event (id = chunk index) or one ndjson line per value,
 * an `end` frame when the writer closes the stream (or the run ended without closing it), and
 * the World's reader released when the body is destroyed (the client went away).
 */
export function streamBody (stream: RunStream, format: StreamFormat, options: StreamBodyOptions = {}): Readable {
  const frame = streamFrames[format]
  let wake: (() => void) | undefined
  let finished = false
  const body = new Readable({
    read () {
      wake?.()
      wake = undefined
    },
    destroy (error, callback) {
      finished = true
      clearInterval(check)
      clearInterval(ping)
      stream.cancel().then(() => callback(error), () => callback(error))
    }
  })
  const push = async (text: string): Promise<void> => {
    if (!body.push(text)) await new Promise<void>((resolve) => { wake = resolve })
  }
  let nextIndex = stream.startIndex
  const pump = async (): Promise<void> => {
    try {
      // eslint-disable-next-line no-unmodified-loop-condition -- destroy() sets it
      for (let chunk = await stream.next(); chunk !== null && !finished; chunk = await stream.next()) {
        for (const value of chunk.values) await push(frame.chunk(chunk.index, value))
        nextIndex = chunk.index + 1
      }
      if (!finished) body.push(frame.end(nextIndex))
    } catch (error) {
      options.onError?.(error)
      if (!finished) body.push(frame.error((error as Error)?.message ?? 'stream failed'))
    }
    finished = true
    clearInterval(check)
    clearInterval(ping)
    options.signal?.removeEventListener('abort', stop)
    body.push(null)
  }
  const stop = (): void => {
    if (finished) return
    finished = true
    stream.cancel().catch(() => {})
  }
  options.signal?.addEventListener('abort', stop, { once: true })
  if (options.signal?.aborted === true) stop()
  const check = setInterval(() => {
    stream.exhausted().then((over) => { if (over) return stream.cancel() }, () => {})
  }, options.checkIntervalMs ?? 2_000)
  const ping = setInterval(() => { if (frame.ping !== undefined && !finished) body.push(frame.ping) }, options.pingIntervalMs ?? 15_000)
  check.unref()
  ping.unref()
  void pump()
  return body
}
