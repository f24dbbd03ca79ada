import type pg from 'pg'
import { decideReservation, type IdempotencyId, type IdempotencyRecordRow, type IdempotencyTable, type Reservation, type ReserveRequest } from '../control-plane.js'
import { SettleWaiters, waiterName } from '../waiters.js'
import type { PostgresListener } from './listener.js'
import { inTransaction, SCHEMA } from './pool.js'
import { holderGone } from './presence.js'

interface Row {
  api_key_id: string
  scope: string
  idempotency_key: string
  fingerprint: string
  state: 'in_progress' | 'completed'
  run_id: string | null
  response_status: number | null
  response_json: string | null
  lease_until: number | null
  created_at: number
  updated_at: number
  expires_at: number
}

interface FoundRow extends Row {
  /** The lease is live by its time, but the worker session holding it is gone. */
  holder_gone: boolean
}

function fromRow (row: Row): IdempotencyRecordRow {
  return {
    owner: row.api_key_id,
    scope: row.scope,
    key: row.idempotency_key,
    fingerprint: row.fingerprint,
    state: row.state,
    reference: row.run_id,
    responseStatus: row.response_status,
    responseJson: row.response_json,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at
  }
}

/** The channel a settled claim is announced on, to the duplicates waiting in every worker. */
export const SETTLED_CHANNEL = 'compute_worker_idempotency_settled'
// A wait re-reads the record at least this often: a notification sent while the listener was
// (re)connecting is not lost for longer.
const MAX_WAIT_MS = 1_000

const TABLE = `${SCHEMA}.idempotency_records`
const WHERE = 'api_key_id = $1 AND scope = $2 AND idempotency_key = $3'
const INSERT_NEW = `INSERT INTO ${TABLE}
  (api_key_id, scope, idempotency_key, fingerprint, state, run_id, lease_until, created_at, updated_at, expires_at, response_json, lease_holder)
  VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, $7, $7, $8, $9, $10)`
// A live lease's holder is checked only when the record would otherwise make the caller wait.
const FIND_FOR_UPDATE = `SELECT *, CASE WHEN state = 'in_progress' AND lease_holder IS NOT NULL AND lease_until > $4
  THEN ${holderGone('lease_holder')} ELSE false END AS holder_gone
  FROM ${TABLE} WHERE ${WHERE} FOR UPDATE`
// A fenced write and its announcement in one statement (the NOTIFY is delivered on commit).
const settle = (write: string): string =>
  `WITH settled AS (${write} RETURNING 1) SELECT (SELECT count(*) FROM settled)::int AS changed, pg_notify('${SETTLED_CHANNEL}', $5)`
const FENCED = `${WHERE} AND state = 'in_progress' AND lease_until = $4`

/**
 * `idempotency_records` on PostgreSQL, shared by every worker. A new key is one
 * `INSERT … ON CONFLICT DO NOTHING` (the common case: one round trip); a key already present is
 * read `FOR UPDATE` and decided in one transaction, so two workers can never both claim it.
 * Settling a claim notifies every worker (LISTEN/NOTIFY), where its duplicates wait. A claim
 * names the worker session that holds it (presence.ts): one whose session is gone is taken over
 * at once, its lease's time notwithstanding.
 */
export class PostgresIdempotency implements IdempotencyTable {
  readonly #pool: pg.Pool
  readonly #holder: () => number | undefined
  readonly #waiters = new SettleWaiters()
  readonly #listener: PostgresListener

  /**
   * `listener` must call `settledNotification` with each payload on `SETTLED_CHANNEL`; `holder`:
   * this worker's session number while it holds its presence lock.
   */
  constructor (pool: pg.Pool, listener: PostgresListener, holder: () => number | undefined = () => undefined) {
    this.#pool = pool
    this.#listener = listener
    this.#holder = holder
  }

  /** A claim settled on some worker: its duplicates waiting here read the record again. */
  settledNotification (payload: string): void {
    this.#waiters.wakeNamed(payload)
  }

  async reserve (request: ReserveRequest): Promise<Reservation> {
    const { id, now, fingerprint } = request
    const fresh = decideReservation(undefined, request)
    if (fresh.write !== 'insert') throw new Error('a reservation of no record must insert one')
    const claim = fresh.reservation
    const holder = this.#holder() ?? null
    const inserted = await this.#pool.query(`${INSERT_NEW} ON CONFLICT DO NOTHING`,
      [id.owner, id.scope, id.key, fingerprint, claim.reference, claim.lease, now, now + request.retentionMs, request.plan?.json ?? null, holder])
    if (inserted.rowCount === 1) return claim

    return await inTransaction(this.#pool, async (client) => {
      const { rows: [row] } = await client.query<FoundRow>(FIND_FOR_UPDATE, [id.owner, id.scope, id.key, now])
      const decision = decideReservation(row === undefined ? undefined : { ...fromRow(row), holderGone: row.holder_gone }, request)
      if (decision.write === 'insert') {
        // Gone (purged) or expired since the insert was refused: the key starts afresh.
        await client.query(`DELETE FROM ${TABLE} WHERE ${WHERE}`, [id.owner, id.scope, id.key])
        await client.query(INSERT_NEW, [id.owner, id.scope, id.key, fingerprint, decision.reservation.reference, decision.reservation.lease, now, now + request.retentionMs, request.plan?.json ?? null, holder])
      } else if (decision.write === 'renew') {
        await client.query(`UPDATE ${TABLE} SET lease_until = $4, lease_holder = $6, updated_at = $5 WHERE ${WHERE}`,
          [id.owner, id.scope, id.key, decision.reservation.lease, now, holder])
      }
      return decision.reservation
    })
  }

  async savePlan (id: IdempotencyId, lease: number, planJson: string, now: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`UPDATE ${TABLE} SET response_json = $5, updated_at = $6 WHERE ${FENCED}`,
      [id.owner, id.scope, id.key, lease, planJson, now])
    return rowCount === 1
  }

  async complete (id: IdempotencyId, lease: number, status: number, bodyJson: string, now: number): Promise<boolean> {
    return await this.#settle(id, `UPDATE ${TABLE} SET state = 'completed', response_status = $6, response_json = $7, lease_until = NULL, updated_at = $8
      WHERE ${FENCED}`, [lease, waiterName(id), status, bodyJson, now])
  }

  async release (id: IdempotencyId, lease: number): Promise<boolean> {
    return await this.#settle(id, `DELETE FROM ${TABLE} WHERE ${FENCED}`, [lease, waiterName(id)])
  }

  async abandon (id: IdempotencyId, lease: number, now: number): Promise<boolean> {
    return await this.#settle(id, `UPDATE ${TABLE} SET lease_until = 0, updated_at = $6 WHERE ${FENCED}`, [lease, waiterName(id), now])
  }

  // Other workers may hold leases right now; a dead worker's are taken over at the next reservation.
  async releaseLeasesAtStart (): Promise<number> {
    return 0
  }

  async purgeExpired (now: number): Promise<number> {
    const { rowCount } = await this.#pool.query(`DELETE FROM ${TABLE} WHERE expires_at <= $1`, [now])
    return rowCount ?? 0
  }

  async waitForChange (id: IdempotencyId, timeoutMs: number): Promise<void> {
    // Not awaited: a listener still connecting (or a database gone) must not hold the wait up.
    this.#listener.open().catch(() => {})
    await this.#waiters.wait(id, Math.min(timeoutMs, MAX_WAIT_MS))
  }

  async listLive (now: number): Promise<IdempotencyRecordRow[]> {
    const { rows } = await this.#pool.query<Row>(`SELECT * FROM ${TABLE} WHERE expires_at > $1 ORDER BY created_at`, [now])
    return rows.map(fromRow)
  }

  async import (rows: readonly IdempotencyRecordRow[]): Promise<number> {
    return await inTransaction(this.#pool, async (client) => {
      let added = 0
      for (const row of rows) {
        const result = await client.query(`INSERT INTO ${TABLE}
          (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_status, response_json, lease_until, created_at, updated_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
        [row.owner, row.scope, row.key, row.fingerprint, row.state, row.reference, row.responseStatus, row.responseJson, row.leaseUntil, row.createdAt, row.updatedAt, row.expiresAt])
        added += result.rowCount ?? 0
      }
      return added
    })
  }

  async #settle (id: IdempotencyId, write: string, params: unknown[]): Promise<boolean> {
    const { rows: [row] } = await this.#pool.query<{ changed: number }>(settle(write), [id.owner, id.scope, id.key, ...params])
    // This process's own waiters need no round trip through the database.
    this.#waiters.wake(id)
    return row?.changed === 1
  }
}
