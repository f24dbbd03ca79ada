import { hash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const API_KEY_PREFIX = 'cw_'
const BODY_LENGTH = 43 // 32 random bytes in base62
const CHECKSUM_LENGTH = 6 // a crc32 in base62

function toBase62 (bytes: Uint8Array, length: number): string {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let out = ''
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out
    n /= 62n
  }
  return out.padStart(length, '0')
}

function checksumOf (body: string): string {
  const crc = crc32(body)
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(crc >>> 0)
  return toBase62(bytes, CHECKSUM_LENGTH)
}

/**
 * A new API key: `cw_` + 32 random bytes in base62 + a crc32 checksum, the shape of GitHub's
 * tokens, so a leaked key is recognizable by scanners and a typo is caught before any lookup.
 */
export function generateApiKey (): string {
  const body = toBase62(randomBytes(32), BODY_LENGTH)
  return API_KEY_PREFIX + body + checksumOf(body)
}

/** True for a well-formed `cw_` key whose checksum matches. */
export function hasValidChecksum (key: string): boolean {
  if (!key.startsWith(API_KEY_PREFIX) || key.length !== API_KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH) return false
  const body = key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + BODY_LENGTH)
  return /^[0-9A-Za-z]+$/.test(body) && checksumOf(body) === key.slice(API_KEY_PREFIX.length + BODY_LENGTH)
}

/** Keys are stored and looked up only by this hash. */
export function hashApiKey (key: string): Buffer {
  return hash('sha256', key, 'buffer')
}
