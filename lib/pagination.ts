import { DomainError } from './errors.js'

/** One page of a list route: `cursor` continues after the last item, null at the end. */
export interface Page<T> {
  data: T[]
  cursor: string | null
  hasMore: boolean
}

/**
 * Cursors are opaque to callers: base64url JSON of whatever position the list needs (a World
 * cursor, a row key). Anything that does not decode is the caller's mistake, a 400.
 */
export function encodeCursor (position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

export function decodeCursor<T extends Record<string, unknown>> (cursor: string | undefined, isPosition: (value: Record<string, unknown>) => boolean): T | undefined {
  if (cursor === undefined || cursor === '') return undefined
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && isPosition(value)) return value as T
  } catch {
    // fall through to the 400 below
  }
  throw new DomainError('validation_error', 'The cursor is not one this worker issued', {
    details: { validation: [{ in: 'querystring', path: '/cursor', message: 'is not a valid cursor' }] }
  })
}
