import { STREAM_START_INDEX_HEADER } from '../headers.js'
import { sleep } from './transport.js'

/** One value of a run's output stream and the index of the chunk that carried it. */
export interface RunStreamValue {
  index: number
  value: unknown
}

export interface RunStreamSource {
  /** Absolute or negative (from the end); the worker resolves a negative one on the first connection. */
  startIndex: number
  signal?: AbortSignal
  /** Opens the ndjson body from chunk `from` (throws the client's errors, after its own retries). */
  open: (from: number) => Promise<Response>
  /** The error when the connection keeps dropping before the end. */
  unanswered: (message: string, cause: unknown) => Error
  /** The error for an `{ error }` line: the worker could not read the stream. */
  failed: (code: string, message: string) => Error
  backoff: (attempt: number) => number
}

/** Reconnects in a row without a new value before giving up. */
const MAX_RECONNECTS_WITHOUT_PROGRESS = 10

class StreamFailure extends Error {}

async function * lines (body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffered += decoder.decode(value, { stream: true })
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end)
        buffered = buffered.slice(end + 1)
        if (line.trim() !== '') yield line
      }
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}

/**
 * Reads `GET /v1/runs/:id/stream` as ndjson (`{ index, value }` lines, then `{ end: true }`).
 * A body that ends without `end` (a cut connection, a worker shutting down) is reopened from the
 * chunk being read, skipping the values of it already delivered: each value arrives once.
 */
export async function * readRunStream (source: RunStreamSource): AsyncGenerator<RunStreamValue> {
  // Chunks before `resume.index` are delivered, and `resume.delivered` values of that one.
  let resume = { index: source.startIndex, delivered: 0 }
  let reconnects = 0
  for (;;) {
    const response = await source.open(resume.index)
    const resolved = Number(response.headers.get(STREAM_START_INDEX_HEADER))
    if (resume.index < 0 && Number.isInteger(resolved)) resume = { index: resolved, delivered: 0 }
    let current = { index: -1, seen: 0 }
    let cut: unknown = new Error('the body ended before the stream did')
    try {
      for await (const line of lines(response.body ?? new ReadableStream())) {
        const message = JSON.parse(line) as { index?: number, value?: unknown, end?: boolean, error?: { code?: string, message?: string } }
        if (message.end === true) return
        if (message.error !== undefined) {
          throw new StreamFailure(message.error.message ?? 'the stream failed', { cause: message.error })
        }
        const index = message.index as number
        current = index === current.index ? { index, seen: current.seen + 1 } : { index, seen: 1 }
        if (index === resume.index && current.seen <= resume.delivered) continue
        resume = { index, delivered: current.seen }
        reconnects = 0
        yield { index, value: message.value }
      }
    } catch (error) {
      if (error instanceof StreamFailure) {
        const { code, message } = error.cause as { code?: string, message?: string }
        throw source.failed(code ?? 'stream_error', message ?? error.message)
      }
      if (source.signal?.aborted === true) throw error
      cut = error
    }
    reconnects++
    if (reconnects > MAX_RECONNECTS_WITHOUT_PROGRESS) {
      throw source.unanswered(`the run stream kept dropping before its end: ${(cut as Error).message}`, cut)
    }
    await sleep(source.backoff(reconnects), source.signal)
  }
}
