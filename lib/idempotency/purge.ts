import type { IdempotencyStore } from './store.js'

export interface PurgeSchedule {
  stop (): void
}

/** How often expired records are purged: a tenth of the retention, between 1 and 15 minutes. */
export function purgeIntervalFor (retentionMs: number): number {
  return Math.min(15 * 60_000, Math.max(60_000, Math.floor(retentionMs / 10)))
}

/**
 * Purges expired idempotency records now and then every `intervalMs`. The timer is unref'd:
 * it never keeps a process alive on its own.
 */
export function schedulePurge (
  store: IdempotencyStore,
  intervalMs: number,
  report: (purged: number, error?: unknown) => void = () => {}
): PurgeSchedule {
  const purge = (): void => {
    store.purgeExpired().then((purged) => report(purged), (error: unknown) => report(0, error))
  }
  purge()
  const timer = setInterval(purge, intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
