import type pg from 'pg'
import type { RateLimitTable, RateLimitWindow } from '../control-plane.js'
import { SCHEMA } from './pool.js'

const TABLE = `${SCHEMA}.rate_limit_windows`
// The database's clock, not the worker's: every worker counts in the same windows.
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint'
const HIT = `WITH now AS (SELECT ${NOW_MS} AS ms)
  INSERT INTO ${TABLE} AS w (key, window_start, count) SELECT $1, ms, 1 FROM now
  ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN w.window_start + $2 <= excluded.window_start THEN excluded.window_start ELSE w.window_start END,
    count = CASE WHEN w.window_start + $2 <= excluded.window_start THEN 1 ELSE w.count + 1 END
  RETURNING count, (window_start + $2 - (SELECT ms FROM now))::int AS ttl`

/** The shared rate limit's counts: one atomic upsert per request, whichever worker takes it. */
export class PostgresRateLimits implements RateLimitTable {
  readonly #pool: pg.Pool

  constructor (pool: pg.Pool) {
    this.#pool = pool
  }

  async hit (key: string, windowMs: number): Promise<RateLimitWindow> {
    const { rows: [row] } = await this.#pool.query<{ count: number, ttl: number }>(HIT, [key, windowMs])
    return { current: row.count, ttl: Math.max(0, row.ttl) }
  }

  async purge (olderThanMs: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM ${TABLE} WHERE window_start < ${NOW_MS} - $1`, [olderThanMs])
    return rowCount ?? 0
  }
}
