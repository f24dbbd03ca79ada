/**
 * The live-read frame format: a 9-byte header
 * `kind:u8 ‖ index:u32be ‖ length:u32be` followed by `length` payload bytes. One DATA frame per
 * stored chunk keeps chunk boundaries, which the SDK runtime relies on (it detects its framing
 * from the first 4 bytes of the first chunk).
 */
export const FrameKind = { DATA: 1, END: 2, PING: 3, ERROR: 4 } as const
export type FrameKind = typeof FrameKind[keyof typeof FrameKind]

export const FRAME_HEADER_BYTES = 9

export interface Frame {
  kind: FrameKind
  index: number
  payload: Uint8Array
}

const EMPTY = new Uint8Array(0)

export function encodeFrame (kind: FrameKind, index: number, payload: Uint8Array = EMPTY): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength)
  const view = new DataView(frame.buffer)
  view.setUint8(0, kind)
  view.setUint32(1, index)
  view.setUint32(5, payload.byteLength)
  frame.set(payload, FRAME_HEADER_BYTES)
  return frame
}

/** Reassembles frames from arbitrary slices of a response body. */
export class FrameDecoder {
  #buffered: Uint8Array = EMPTY

  /** Adds bytes and returns every frame now complete. */
  push (bytes: Uint8Array): Frame[] {
    this.#buffered = this.#buffered.byteLength === 0 ? bytes : concat(this.#buffered, bytes)
    const frames: Frame[] = []
    let offset = 0
    while (this.#buffered.byteLength - offset >= FRAME_HEADER_BYTES) {
      const view = new DataView(this.#buffered.buffer, this.#buffered.byteOffset + offset, FRAME_HEADER_BYTES)
      const kind = view.getUint8(0)
      const length = view.getUint32(5)
      if (this.#buffered.byteLength - offset - FRAME_HEADER_BYTES < length) break
      if (kind < FrameKind.DATA || kind > FrameKind.ERROR) throw new Error(`Unknown stream frame kind ${kind}`)
      const start = offset + FRAME_HEADER_BYTES
      frames.push({ kind: kind as FrameKind, index: view.getUint32(1), payload: this.#buffered.slice(start, start + length) })
      offset = start + length
    }
    this.#buffered = offset === 0 ? this.#buffered : this.#buffered.slice(offset)
    return frames
  }

  /** True when bytes of an unfinished frame are held (a body that ends here was cut). */
  get hasPartialFrame (): boolean {
    return this.#buffered.byteLength > 0
  }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.byteLength + b.byteLength)
  joined.set(a, 0)
  joined.set(b, a.byteLength)
  return joined
}

/** The most chunks one multi-write carries (world-vercel's MAX_CHUNKS_PER_REQUEST). */
export const MAX_CHUNKS_PER_WRITE = 1000

/** A multi-chunk stream write body: `u32be(length) ‖ bytes` per chunk, in order. */
export function encodeChunkList (chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + 4 + chunk.byteLength, 0)
  const body = new Uint8Array(total)
  const view = new DataView(body.buffer)
  let offset = 0
  for (const chunk of chunks) {
    view.setUint32(offset, chunk.byteLength)
    body.set(chunk, offset + 4)
    offset += 4 + chunk.byteLength
  }
  return body
}

/** Splits a multi-chunk body; throws on a truncated body or too many chunks. */
export function decodeChunkList (body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const chunks: Uint8Array[] = []
  let offset = 0
  while (offset < body.byteLength) {
    if (body.byteLength - offset < 4) throw new RangeError('truncated chunk length')
    const length = view.getUint32(offset)
    if (body.byteLength - offset - 4 < length) throw new RangeError('truncated chunk')
    chunks.push(body.subarray(offset + 4, offset + 4 + length))
    offset += 4 + length
    if (chunks.length > MAX_CHUNKS_PER_WRITE) throw new RangeError(`more than ${MAX_CHUNKS_PER_WRITE} chunks`)
  }
  return chunks
}
