import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeCbor,
  decodeTaggedJson,
  encodeCbor,
  encodeTaggedJson,
  encodingForAccept,
  encodingForContentType
} from '../../../lib/wire/codec.js'
import { isWellFormedListCursor, isWellFormedStreamCursor } from '../../../lib/world-proxy/cursors.js'
import { decodeChunkList, encodeChunkList, encodeFrame, FrameDecoder, FrameKind } from '../../../lib/wire/frames.js'

const bytes = (...values: number[]) => new Uint8Array(values)

test('tagged JSON writes a Buffer in the tagged form, not Buffer.toJSON\'s { type: "Buffer" }', () => {
  const text = encodeTaggedJson({ b: Buffer.from([1, 2, 3]), u: bytes(4, 5), empty: new Uint8Array(0), nested: [{ deep: Buffer.from('hi') }] })
  assert.deepEqual(JSON.parse(text), {
    b: { __type: 'Uint8Array', data: 'AQID' },
    u: { __type: 'Uint8Array', data: 'BAU=' },
    empty: { __type: 'Uint8Array', data: '' },
    nested: [{ deep: { __type: 'Uint8Array', data: 'aGk=' } }]
  })
  assert.doesNotMatch(text, /"type":"Buffer"/)
})

test('tagged JSON round-trips bytes exactly (plain Uint8Array back) and keeps null distinct from absent', () => {
  const all = new Uint8Array(256).map((_, i) => i)
  const view = new Uint8Array(all.buffer, 10, 5) // a view with an offset must not leak its neighbours
  const decoded = decodeTaggedJson(encodeTaggedJson({ all, view, none: null, gone: undefined, date: new Date(1_700_000_000_123) })) as Record<string, unknown>
  assert.deepEqual(decoded.all, all)
  assert.equal(Object.getPrototypeOf(decoded.all), Uint8Array.prototype)
  assert.deepEqual(decoded.view, bytes(10, 11, 12, 13, 14))
  assert.equal(decoded.none, null)
  assert.equal('gone' in decoded, false)
  assert.equal(decoded.date, '2023-11-14T22:13:20.123Z', 'dates travel as ISO strings with milliseconds')
})

test('CBOR round-trips bytes and dates natively and turns Buffers into plain Uint8Arrays', () => {
  const date = new Date(1_700_000_000_123)
  const decoded = decodeCbor(encodeCbor({ u: bytes(1, 2), b: Buffer.from([3]), date, list: [Buffer.from([4])], gone: undefined })) as Record<string, any>
  assert.deepEqual(decoded.u, bytes(1, 2))
  assert.equal(Object.getPrototypeOf(decoded.b), Uint8Array.prototype)
  assert.equal(Object.getPrototypeOf(decoded.list[0]), Uint8Array.prototype)
  assert.ok(decoded.date instanceof Date)
  assert.equal(decoded.date.getTime(), date.getTime())
})

test('content negotiation picks CBOR only when asked for', () => {
  assert.equal(encodingForAccept(undefined), 'json')
  assert.equal(encodingForAccept('application/json'), 'json')
  assert.equal(encodingForAccept('application/cbor'), 'cbor')
  assert.equal(encodingForAccept('application/json;q=0.5, application/cbor'), 'cbor')
  assert.equal(encodingForAccept('application/cbor;q=0, application/json'), 'json')
  assert.equal(encodingForContentType('application/cbor'), 'cbor')
  assert.equal(encodingForContentType('application/json; charset=utf-8'), 'json')
  assert.equal(encodingForContentType('text/plain'), undefined)
})

test('frames survive any slicing of the body', () => {
  const body = Buffer.concat([
    encodeFrame(FrameKind.PING, 0),
    encodeFrame(FrameKind.DATA, 7, bytes(1, 2, 3)),
    encodeFrame(FrameKind.DATA, 8, new Uint8Array(70_000).fill(9)),
    encodeFrame(FrameKind.END, 9)
  ])
  for (const sliceSize of [1, 5, 9, 10, 4096, body.length]) {
    const decoder = new FrameDecoder()
    const frames = []
    for (let offset = 0; offset < body.length; offset += sliceSize) frames.push(...decoder.push(body.subarray(offset, offset + sliceSize)))
    assert.deepEqual(frames.map((frame) => [frame.kind, frame.index, frame.payload.byteLength]),
      [[FrameKind.PING, 0, 0], [FrameKind.DATA, 7, 3], [FrameKind.DATA, 8, 70_000], [FrameKind.END, 9, 0]], `slices of ${sliceSize}`)
    assert.equal(decoder.hasPartialFrame, false)
  }
})

test('multi-chunk bodies keep order and refuse truncation', () => {
  const chunks = [bytes(1), new Uint8Array(0), bytes(2, 3)]
  assert.deepEqual(decodeChunkList(encodeChunkList(chunks)), chunks)
  const encoded = encodeChunkList(chunks)
  assert.throws(() => decodeChunkList(encoded.subarray(0, encoded.length - 1)), /truncated/)
})

test('cursors: world-local and world-postgres shapes pass, garbage does not', () => {
  assert.ok(isWellFormedListCursor('2026-11-29T02:26:33.213Z|evnt_01M8JJ093XH84TZ0MTRVGQ1ZMB'))
  assert.ok(isWellFormedListCursor('2026-11-29T02:26:33.213Z'))
  assert.ok(isWellFormedListCursor('evnt_01M8JJ093XH84TZ0MTRVGQ1ZMB'))
  for (const bad of ['garbage', 'not a date|evnt_1', '2026-13-45T99:99:99.000Z|x', '2026-11-29T02:26:33.213Z|']) {
    assert.equal(isWellFormedListCursor(bad), false, bad)
  }
  assert.ok(isWellFormedStreamCursor(Buffer.from('{"i":3}').toString('base64')))
  assert.equal(isWellFormedStreamCursor('not-base64!'), false)
  assert.equal(isWellFormedStreamCursor(Buffer.from('[1]').toString('base64')), false)
})
