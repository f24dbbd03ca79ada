import { DomainError } from '../errors.js'
import { decodeChunkList, MAX_CHUNKS_PER_WRITE } from '../wire/frames.js'

export interface StreamTarget { name: string, runId: string }
export interface StreamWrite extends StreamTarget { chunks: Array<string | Uint8Array> }

function invalid (message: string): DomainError {
  return new DomainError('validation_error', message)
}

function isId (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 512
}

function isChunk (value: unknown): value is string | Uint8Array {
  return typeof value === 'string' || value instanceof Uint8Array
}

/** `{ name, runId }` from a decoded body, else from the query string. */
export function streamTargetOf (body: unknown, query: Partial<StreamTarget>): StreamTarget {
  const source = body !== null && typeof body === 'object' && !(body instanceof Uint8Array) ? body as Partial<StreamTarget> : query
  if (!isId(source.name) || !isId(source.runId)) throw invalid('A stream is named by name and runId (in the body or the query)')
  return { name: source.name, runId: source.runId }
}

/**
 * A stream write in any of its forms: raw bytes (one chunk, or with `x-stream-multi: true` the
 * length-prefixed concatenation) with name and runId in the query, or a JSON/CBOR body
 * `{ name, runId, chunk }` / `{ name, runId, chunks }` whose chunks are bytes or strings.
 */
export function streamWriteOf (body: unknown, query: Partial<StreamTarget>, multi: boolean): StreamWrite {
  if (body instanceof Uint8Array) {
    const target = streamTargetOf(undefined, query)
    if (!multi) return { ...target, chunks: [body] }
    try {
      return { ...target, chunks: decodeChunkList(body) }
    } catch (error) {
      throw invalid(`The multi-chunk body is malformed: ${(error as Error).message}`)
    }
  }
  const target = streamTargetOf(body, query)
  const { chunk, chunks } = (body ?? {}) as { chunk?: unknown, chunks?: unknown }
  if (chunk !== undefined && chunks === undefined && isChunk(chunk)) return { ...target, chunks: [chunk] }
  if (chunk === undefined && Array.isArray(chunks) && chunks.length <= MAX_CHUNKS_PER_WRITE && chunks.every(isChunk)) {
    return { ...target, chunks }
  }
  throw invalid(`A stream write carries chunk (bytes or a string) or chunks (at most ${MAX_CHUNKS_PER_WRITE})`)
}
