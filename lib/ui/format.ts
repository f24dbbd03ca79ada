/** How the dashboard writes times, durations, ids and values. */

export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

/** ISO time without the T and the milliseconds' noise, in UTC (the worker's logs and API use UTC). */
export function formatTime (iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—'
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
}

export function durationBetween (from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined
  return Date.parse(to) - Date.parse(from)
}

/** `workflow//./workflows/order//processOrder` → `processOrder`; `step//…//chargeCard` → `chargeCard`. */
export function shortName (id: string): string {
  const at = id.lastIndexOf('//')
  return at === -1 ? id : id.slice(at + 2)
}

export function prettyJson (value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined'
}

export function formatBytes (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
