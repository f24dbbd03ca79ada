/** `Retry-After`, both ways: whole seconds when the worker sends it, seconds or an HTTP date when a client reads it. */

export function retryAfterHeader (seconds: number): string {
  return String(Math.max(0, Math.ceil(seconds)))
}

/** Seconds to wait (never negative), or undefined when the header is absent or unreadable. */
export function parseRetryAfter (header: string | null): number | undefined {
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000)
}
