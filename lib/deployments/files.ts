import { createHash } from 'node:crypto'
import { DomainError } from '../errors.js'

export interface DecodedFile {
  name: string
  bytes: Buffer
  size: number
  sha256: string
}

// One path segment: letters, digits, dot, dash, underscore; never `.` or `..` (checked below).
const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const MAX_DEPTH = 8

function invalidFile (name: string, message: string): DomainError {
  return new DomainError('validation_error', `File "${name.replace(/[^\x20-\x7e]/g, '?')}" ${message}`, {
    details: { validation: [{ in: 'body', path: `/files/${encodeURIComponent(name)}`, message }] }
  })
}

/**
 * A file name is a relative path of safe segments (`flow.js`, `assets/data.json`). Absolute
 * paths, `..`/`.` segments, backslashes, NUL and any other character are refused, so a name
 * can never leave the deployment's directory, whatever the platform.
 */
export function assertSafeFileName (name: string): void {
  if (name.length === 0 || name.length > 255) throw invalidFile(name, 'must have 1 to 255 characters')
  if (name.includes('\0')) throw invalidFile(name, 'must not contain NUL')
  if (name.includes('\\')) throw invalidFile(name, 'must use / as separator, not a backslash')
  if (name.startsWith('/')) throw invalidFile(name, 'must be a relative path')
  const segments = name.split('/')
  if (segments.length > MAX_DEPTH) throw invalidFile(name, `must be at most ${MAX_DEPTH} levels deep`)
  for (const segment of segments) {
    if (segment === '.' || segment === '..') throw invalidFile(name, 'must not contain . or .. segments')
    if (!SEGMENT.test(segment)) throw invalidFile(name, 'must consist of letters, digits, ".", "-", "_" and "/" separators')
  }
}

// Room for the manifest and labels next to the base64 files.
const JSON_ALLOWANCE_BYTES = 8 * 1024 * 1024

/** The request body limit that lets `maxDeploymentBytes` of decoded files through as base64. */
export function deploymentBodyLimit (maxDeploymentBytes: number): number {
  return Math.ceil(maxDeploymentBytes / 3) * 4 + JSON_ALLOWANCE_BYTES
}

/** Decoded byte length of a padded base64 string, computed without decoding it. */
function decodedLength (base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0
  return (base64.length / 4) * 3 - padding
}

/**
 * Validates every name and base64 payload and enforces `maxBytes` over the decoded total
 * (413 `payload_too_large`) before decoding anything, then decodes and hashes the files.
 */
export function decodeFiles (files: Record<string, string>, maxBytes: number): DecodedFile[] {
  const names = Object.keys(files).sort()
  let total = 0
  for (const name of names) {
    assertSafeFileName(name)
    const content = files[name]
    if (content.length % 4 !== 0 || !BASE64.test(content)) throw invalidFile(name, 'is not valid base64')
    total += decodedLength(content)
  }
  if (total > maxBytes) {
    throw new DomainError('payload_too_large', `The deployment's files add up to ${total} bytes, over the limit of ${maxBytes}`,
      { details: { limit: maxBytes, size: total } })
  }
  assertNoFileDirectoryClash(names)
  return names.map((name) => {
    const bytes = Buffer.from(files[name], 'base64')
    return { name, bytes, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
  })
}

// `a.js` and `a.js/b.js` cannot both exist on disk, nor `a.js` and `A.js` on a case-insensitive one.
function assertNoFileDirectoryClash (sortedNames: string[]): void {
  const set = new Set(sortedNames)
  const folded = new Set<string>()
  for (const name of sortedNames) {
    if (folded.has(name.toLowerCase())) throw invalidFile(name, 'differs from another file name only by case')
    folded.add(name.toLowerCase())
    const segments = name.split('/')
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join('/')
      if (set.has(prefix)) throw invalidFile(prefix, `is both a file and the directory of "${name}"`)
    }
  }
}
