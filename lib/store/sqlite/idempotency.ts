import { decideReservation, type IdempotencyId, type IdempotencyRecordRow, type IdempotencyTable, type Reservation, type ReserveRequest } from '../control-plane.js'
import { SettleWaiters } from '../waiters.js'
import type { SqliteDatabase } from './database.js'
import type { GroupCommit } from './group-commit.js'

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

/**
 * `idempotency_records` on SQLite: a reservation is one `BEGIN IMMEDIATE` transaction (the
 * write lock is taken before the read, so two processes on the file cannot both claim a key).
 * A duplicate waits in this process: only this process writes the file's records it waits on.
 */
export class SqliteIdempotency implements IdempotencyTable {
  readonly #db: SqliteDatabase
  readonly #writes: GroupCommit
  readonly #waiters = new SettleWaiters()
  readonly #get
  readonly #insert
  readonly #import
  readonly #delete
  readonly #renewLease
  readonly #savePlan
  readonly #complete
  readonly #release
  readonly #abandon
  readonly #expireLeases
  readonly #purge
  readonly #live

  constructor (db: SqliteDatabase, writes: GroupCommit) {
    this.#db = db
    this.#writes = writes
    const where = 'api_key_id = @owner AND scope = @scope AND idempotency_key = @key'
    this.#get = db.prepare<IdempotencyId, Row>(`SELECT * FROM idempotency_records WHERE ${where}`)
    this.#insert = db.prepare(`INSERT INTO idempotency_records
      (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_json, lease_until, created_at, updated_at, expires_at)
      VALUES (@owner, @scope, @key, @fingerprint, 'in_progress', @reference, @planJson, @lease, @now, @now, @expiresAt)`)
    this.#import = db.prepare(`INSERT INTO idempotency_records
      (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_status, response_json, lease_until, created_at, updated_at, expires_at)
      VALUES (@owner, @scope, @key, @fingerprint, @state, @reference, @responseStatus, @responseJson, @leaseUntil, @createdAt, @updatedAt, @expiresAt)
      ON CONFLICT DO NOTHING`)
    this.#delete = db.prepare(`DELETE FROM idempotency_records WHERE ${where}`)
    this.#renewLease = db.prepare(`UPDATE idempotency_records SET lease_until = @lease, updated_at = @now WHERE ${where}`)
    const fenced = `${where} AND state = 'in_progress' AND lease_until = @lease`
    this.#savePlan = db.prepare(`UPDATE idempotency_records SET response_json = @planJson, updated_at = @now WHERE ${fenced}`)
    this.#complete = db.prepare(`UPDATE idempotency_records SET state = 'completed', response_status = @status, response_json = @bodyJson,
      lease_until = NULL, updated_at = @now WHERE ${fenced}`)
    this.#release = db.prepare(`DELETE FROM idempotency_records WHERE ${fenced}`)
    this.#abandon = db.prepare(`UPDATE idempotency_records SET lease_until = 0, updated_at = @now WHERE ${fenced}`)
    this.#expireLeases = db.prepare("UPDATE idempotency_records SET lease_until = 0 WHERE state = 'in_progress' AND lease_until > 0")
    this.#purge = db.prepare('DELETE FROM idempotency_records WHERE expires_at <= ?')
    this.#live = db.prepare<[number], Row>('SELECT * FROM idempotency_records WHERE expires_at > ? ORDER BY created_at')
  }

  async reserve (request: ReserveRequest): Promise<Reservation> {
    const { id, now } = request
    // The group commit is one BEGIN IMMEDIATE transaction: the read and the write below are one claim.
    return await this.#writes.run((): Reservation => {
      const row = this.#get.get(id)
      const decision = decideReservation(row === undefined ? undefined : fromRow(row), request)
      if (decision.write === 'insert') {
        if (decision.replaceExpired) this.#delete.run(id)
        this.#insert.run({ ...id, fingerprint: request.fingerprint, reference: decision.reservation.reference, planJson: request.plan?.json ?? null, lease: decision.reservation.lease, now, expiresAt: now + request.retentionMs })
      } else if (decision.write === 'renew') {
        this.#renewLease.run({ ...id, lease: decision.reservation.lease, now })
      }
      return decision.reservation
    })
  }

  async savePlan (id: IdempotencyId, lease: number, planJson: string, now: number): Promise<boolean> {
    return await this.#writes.run(() => this.#savePlan.run({ ...id, lease, planJson, now }).changes === 1)
  }

  async complete (id: IdempotencyId, lease: number, status: number, bodyJson: string, now: number): Promise<boolean> {
    return this.#settled(id, await this.#writes.run(() => this.#complete.run({ ...id, lease, status, bodyJson, now }).changes === 1))
  }

  async release (id: IdempotencyId, lease: number): Promise<boolean> {
    return this.#settled(id, await this.#writes.run(() => this.#release.run({ ...id, lease }).changes === 1))
  }

  async abandon (id: IdempotencyId, lease: number, now: number): Promise<boolean> {
    return this.#settled(id, await this.#writes.run(() => this.#abandon.run({ ...id, lease, now }).changes === 1))
  }

  // The file belongs to this process (one worker per SQLite file): no claim of it can be running yet.
  async releaseLeasesAtStart (): Promise<number> {
    return this.#expireLeases.run().changes
  }

  async purgeExpired (now: number): Promise<number> {
    return this.#purge.run(now).changes
  }

  async waitForChange (id: IdempotencyId, timeoutMs: number): Promise<void> {
    const settled = this.#waiters.wait(id, timeoutMs)
    // The claim may have settled between the caller's read and this wait (both in one group
    // commit): with the waiter registered, a settle still to come wakes it; one already done is
    // seen here.
    if (this.#get.get(id)?.state !== 'in_progress') this.#waiters.wake(id)
    await settled
  }

  async listLive (now: number): Promise<IdempotencyRecordRow[]> {
    this.#writes.flush()
    return this.#live.all(now).map(fromRow)
  }

  async import (rows: readonly IdempotencyRecordRow[]): Promise<number> {
    return this.#db.transaction(() => rows.reduce((added, row) => added + this.#import.run(row).changes, 0)).immediate()
  }

  #settled (id: IdempotencyId, changed: boolean): boolean {
    this.#waiters.wake(id)
    return changed
  }
}
