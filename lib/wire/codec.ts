import { decode as decodeCborBytes, encode as encodeCborValue } from 'cbor-x'
import { bytesToBase64 } from '../bytes.js'

export const JSON_MEDIA_TYPE = 'application/json'
export const CBOR_MEDIA_TYPE = 'application/cbor'
export const OCTET_MEDIA_TYPE = 'application/octet-stream'
/** Live stream reads: a sequence of frames (frames.ts). */
export const FRAMES_MEDIA_TYPE = 'application/vnd.workflow.stream-frames.v1'

export type WireEncoding = 'json' | 'cbor'

interface TaggedBytes { __type: 'Uint8Array', data: string }

function isTaggedBytes (value: unknown): value is TaggedBytes {
  return value !== null && typeof value === 'object' &&
    (value as TaggedBytes).__type === 'Uint8Array' && typeof (value as TaggedBytes).data === 'string'
}

/**
 * JSON with world-local's tagged form for bytes (`{ "__type": "Uint8Array", "data": "<base64>" }`).
 * The replacer looks at the holder's original value: `Buffer.prototype.toJSON` runs before a
 * replacer sees the value, so testing `value` alone would write a Buffer as `{ type: 'Buffer' }`.
 */
export function encodeTaggedJson (value: unknown): string {
  return JSON.stringify(value, function replaceBytes (this: Record<string, unknown>, key: string, replaced: unknown) {
    const original = this[key]
    return original instanceof Uint8Array ? { __type: 'Uint8Array', data: bytesToBase64(original) } : replaced
  })
}

/** Parses tagged JSON; every tagged value becomes a plain `Uint8Array` (dates stay strings). */
export function decodeTaggedJson (text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) =>
    isTaggedBytes(value) ? new Uint8Array(Buffer.from(value.data, 'base64')) : value)
}

/**
 * Node `Buffer`s (what cbor-x yields for a bare byte string) become plain `Uint8Array`s, so
 * nothing downstream meets the Buffer/JSON trap and values compare equal to a local World's.
 */
function withPlainBytes (value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? new Uint8Array(value) : value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withPlainBytes(value[i])
    return value
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) record[key] = withPlainBytes(record[key])
  }
  return value
}

/** CBOR as world-vercel sends it: bytes as tag 64 (or a bare byte string), dates as tag 1. */
export function encodeCbor (value: unknown): Buffer {
  return encodeCborValue(value)
}

export function decodeCbor (bytes: Uint8Array): unknown {
  return withPlainBytes(decodeCborBytes(bytes))
}

export function encodeBody (value: unknown, encoding: WireEncoding): string | Buffer {
  return encoding === 'cbor' ? encodeCbor(value) : encodeTaggedJson(value)
}

export function mediaTypeOf (encoding: WireEncoding): string {
  return encoding === 'cbor' ? CBOR_MEDIA_TYPE : JSON_MEDIA_TYPE
}

/** The encoding an `Accept` header asks for: CBOR when it names `application/cbor` (q > 0), else tagged JSON. */
export function encodingForAccept (accept: string | undefined): WireEncoding {
  if (accept === undefined) return 'json'
  const wantsCbor = accept.split(',').some((entry) => {
    const [type, ...parameters] = entry.split(';').map((part) => part.trim().toLowerCase())
    return type === CBOR_MEDIA_TYPE && !parameters.some((parameter) => /^q=0(\.0*)?$/.test(parameter))
  })
  return wantsCbor ? 'cbor' : 'json'
}

/** The encoding of a body by its `Content-Type`; undefined when it is neither. */
export function encodingForContentType (contentType: string | null | undefined): WireEncoding | undefined {
  if (contentType === null || contentType === undefined) return undefined
  const type = contentType.split(';')[0].trim().toLowerCase()
  if (type === CBOR_MEDIA_TYPE) return 'cbor'
  if (type === JSON_MEDIA_TYPE || type.endsWith('+json')) return 'json'
  return undefined
}
