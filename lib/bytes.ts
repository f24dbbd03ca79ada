/** Base64 of a byte view, without copying and without the rest of its buffer (a pooled Buffer shares one). */
export function bytesToBase64 (bytes: ArrayBufferView): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}
