import { streamFrames } from '../../lib/runs/stream.js'
import { STREAM_CHUNKS, STREAM_VALUES } from '../../lib/schemas/examples.js'
import { encodeFrame, FrameKind } from '../../lib/wire/frames.js'
import { FRAMES_MEDIA_TYPE, OCTET_MEDIA_TYPE } from '../../lib/wire/codec.js'

/**
 * Examples of the bodies no JSON Schema describes (live streams, raw bytes), by media type,
 * written by the encoders that write the real bodies. The document shows them as Example
 * Objects: the summary says how to read the value (binary bodies as a hex dump).
 */
export interface MediaExample { summary: string, value: string }

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

const endIndex = STREAM_VALUES.length

export const STREAMING_MEDIA_EXAMPLES: Record<string, Record<string, MediaExample>> = {
  'text/event-stream': {
    twoValuesThenEnd: {
      summary: 'Two values (id = chunk index), then `end` with the index to resume from',
      value: STREAM_VALUES.map(({ value }, index) => streamFrames.sse.chunk(index, value)).join('') + streamFrames.sse.end(endIndex)
    }
  },
  'application/x-ndjson': {
    twoValuesThenEnd: {
      summary: 'Two values, one JSON line each, then the end line',
      value: STREAM_VALUES.map(({ value }, index) => streamFrames.ndjson.chunk(index, value)).join('') + streamFrames.ndjson.end(endIndex)
    }
  },
  [OCTET_MEDIA_TYPE]: {
    oneChunk: {
      summary: 'Hex dump of one chunk as the SDK writes it (u32be length ‖ "devl" ‖ devalue); the body is these bytes',
      value: hex(STREAM_CHUNKS[0])
    }
  },
  [FRAMES_MEDIA_TYPE]: {
    twoChunksThenEnd: {
      summary: 'Hex dump, one frame a line (kind:u8 ‖ index:u32be ‖ length:u32be ‖ payload): DATA 0, DATA 1, END; the body is these bytes',
      value: [
        ...STREAM_CHUNKS.map((chunk, index) => encodeFrame(FrameKind.DATA, index, chunk)),
        encodeFrame(FrameKind.END, endIndex)
      ].map(hex).join('\n')
    }
  }
}
