import type pg from 'pg'
import type { RateLimitTable, RateLimitWindow } from '../control-plane.js'
import { SCHEMA } from './pool.js'

const TABLE = `${SCHEMA}.rate_limit_windows`
// The database's clock, not the worker's: every worker counts in the same windows.
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint'
const HIT = `WITH now AS (SELECT ${NOW_MS} AS ms)
  INSERT INTO ${TABLE} AS w (key, window_start, count) SELECT $1, ms, $3 FROM now
  ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN w.window_start + $2 <= excluded.window_start THEN excluded.window_start ELSE w.window_start END,
    count = CASE WHEN w.window_start + $2 <= excluded.window_start THEN $3 ELSE w.count + $3 END
  RETURNING count, (window_start + $2 - (SELECT ms FROM now))::int AS ttl`

interface Waiting {
  resolve: (window: RateLimitWindow) => void
  reject: (error: unknown) => void
}

interface KeyHits {
  inFlight: boolean
  /** Hits that arrived while an upsert of the key was in flight: they go in the next one, together. */
  waiting: Waiting[]
}

/**
 * The shared rate limit's counts: one atomic upsert whichever worker takes a request. A key's
 * hits that arrive while its upsert is in flight are counted together in the next one (`count +
 * n`), each told its own place in the window: the same counts and refusals as one upsert per
 * request, with one round trip per key at a time instead of one per request.
 */
export class PostgresRateLimits implements RateLimitTable {
  readonly #pool: pg.Pool
  readonly #keys = new Map<string, KeyHits>()

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  async hit (key: string, windowMs: number): Promise<RateLimitWindow> {
    return await new Promise<RateLimitWindow>((resolve, reject) => {
      let hits = this.#keys.get(key)
      if (hits === undefined) {
        hits = { inFlight: false, waiting: [] }
        this.#keys.set(key, hits)
      }
      hits.waiting.push({ resolve, reject })
      if (!hits.inFlight) this.#send(key, hits, windowMs)
    })
  }

  #send (key: string, hits: KeyHits, windowMs: number): void {
    const batch = hits.waiting
    hits.waiting = []
    hits.inFlight = true
    this.#pool.query<{ count: number, ttl: number }>(HIT, [key, windowMs, batch.length]).then(({ rows: [row] }) => {
      const ttl = Math.max(0, row.ttl)
      const first = row.count - batch.length + 1
      batch.forEach((waiting, index) => waiting.resolve({ current: first + index, ttl }))
    }, (error: unknown) => {
      for (const waiting of batch) waiting.reject(error)
    }).finally(() => {
      hits.inFlight = false
      if (hits.waiting.length > 0) this.#send(key, hits, windowMs)
      else this.#keys.delete(key)
    })
  }

  async purge (olderThanMs: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM ${TABLE} WHERE window_start < ${NOW_MS} - $1`, [olderThanMs])
    return rowCount ?? 0
  }
}
