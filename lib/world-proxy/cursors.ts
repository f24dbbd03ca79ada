/**
 * Cursors pass through verbatim, but a malformed one must be refused with 400: world-local turns
 * an unreadable cursor into an Invalid Date and silently answers an empty page, which would leave
 * the runtime believing a run has no new events. On a 400 the runtime reloads without a cursor
 * (@workflow/core runtime/helpers.js `shouldRetryWithoutEventCursor`).
 *
 * Accepted shapes: world-local's `<ISO time>` or `<ISO time>|<id>`, and world-postgres's entity id.
 */
/**
 * No cursor: the first page. The SDK's CLI sends `''` for it (its `--cursor` flag defaults to the
 * empty string), and world-local and world-postgres read empty and absent alike (`!cursor`).
 */
export function isFirstPageCursor (cursor: string | null | undefined): cursor is '' | null | undefined {
  return cursor === undefined || cursor === null || cursor === ''
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const ENTITY_ID = /^[a-z]+_[0-9A-Za-z]+$/

export function isWellFormedListCursor (cursor: string): boolean {
  if (ENTITY_ID.test(cursor)) return true
  const separator = cursor.indexOf('|')
  const time = separator === -1 ? cursor : cursor.slice(0, separator)
  if (separator !== -1 && cursor.length === separator + 1) return false
  return ISO_TIME.test(time) && !Number.isNaN(Date.parse(time))
}

/**
 * Stream-chunk cursors of both Worlds are base64 of a JSON object (`{"i":n}` in world-local,
 * `{"c":…}` in world-postgres); both silently restart from chunk 0 on anything else, which would
 * hand a reader its chunks twice.
 */
export function isWellFormedStreamCursor (cursor: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cursor)) return false
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'))
    return decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)
  } catch {
    return false
  }
}
