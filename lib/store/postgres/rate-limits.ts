import type pg from 'pg'
import { BoundedMap } from '../../bounded.js'
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

// A worker takes places in a key's window a block at a time: a sixteenth of what is left of the
// limit (so blocks shrink to one place as the window fills), at most this many.
const BLOCK_SHARE = 16
const BLOCK_MAX = 100
// Keys (API keys, client addresses) whose blocks a worker keeps; a forgotten key's unused places are lost.
const KEYS_KEPT = 10_000

interface Allowance {
  /** When the window ends, on this worker's clock (the database's ttl at the reservation). */
  endsAt: number
  /** The place the next request takes, and the last place of the block this worker holds. */
  next: number
  last: number
  /** The reservation in flight: the key's other requests wait for it and take places from it. */
  reserving?: Promise<void>
}

/**
 * The shared rate limit's counts. Every worker reserves places in a key's window from the
 * database a block at a time (one atomic upsert: `count + n`, on the database's clock) and gives
 * them out to its requests in order; a request past the limit is refused, and once a worker saw the
 * window full it refuses the key's requests until the window ends, without asking (a fixed window
 * never empties). No place is given twice, so the limit is never exceeded across workers; places a
 * worker reserved and did not use before the window ended are lost, which blocks that shrink to one
 * place as the window fills keep to a handful. One round trip per block instead of one per request.
 */
export class PostgresRateLimits implements RateLimitTable {
  readonly #pool: pg.Pool
  readonly #keys: BoundedMap<string, Allowance>

  constructor (pool: pg.Pool, keysKept = KEYS_KEPT) {
    this.#pool = pool
    this.#keys = new BoundedMap(keysKept)
  }

  async hit (key: string, windowMs: number, max: number): Promise<RateLimitWindow> {
    for (;;) {
      const now = Date.now()
      let allowance = this.#keys.get(key)
      if (allowance !== undefined && allowance.reserving === undefined && now >= allowance.endsAt) {
        this.#keys.delete(key)
        allowance = undefined
      }
      if (allowance?.reserving !== undefined) {
        await allowance.reserving
        continue
      }
      if (allowance !== undefined && (allowance.next <= allowance.last || allowance.last >= max)) {
        // A place of the block, or the window seen full: past the limit whatever is asked.
        const current = allowance.next <= allowance.last ? allowance.next++ : Math.max(allowance.last, max) + 1
        return { current, ttl: allowance.endsAt - now }
      }
      await this.#reserve(key, windowMs, max, allowance)
    }
  }

  async #reserve (key: string, windowMs: number, max: number, known: Allowance | undefined): Promise<void> {
    const size = Math.min(BLOCK_MAX, Math.max(1, Math.floor((max - (known?.last ?? 0)) / BLOCK_SHARE)))
    const allowance: Allowance = known ?? { endsAt: 0, next: 1, last: 0 }
    this.#keys.set(key, allowance)
    const reserving = this.#pool.query<{ count: number, ttl: number }>(HIT, [key, windowMs, size]).then(({ rows: [row] }) => {
      allowance.endsAt = Date.now() + Math.max(0, row.ttl)
      allowance.next = row.count - size + 1
      allowance.last = row.count
    })
    allowance.reserving = reserving
    try {
      await reserving
    } catch (error) {
      this.#keys.delete(key)
      throw error
    } finally {
      allowance.reserving = undefined
    }
  }

  async purge (olderThanMs: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM ${TABLE} WHERE window_start < ${NOW_MS} - $1`, [olderThanMs])
    return rowCount ?? 0
  }
}
