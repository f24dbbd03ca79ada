import type { SqliteDatabase } from '../store/database.js'

export const DELIVERY_RETENTION_MS = 72 * 60 * 60 * 1000
/** A delivery still "in progress" after this long was abandoned (a crash); a retry takes it over. */
export const DELIVERY_LEASE_MS = 60_000

export interface StoredAnswer {
  status: number
  body: unknown
  runId: string | null
}

export type Reservation =
  | { state: 'reserved' }
  | { state: 'completed', answer: StoredAnswer }
  | { state: 'in_progress' }

interface DeliveryRow {
  state: 'in_progress' | 'completed'
  response_status: number | null
  response_json: string | null
  run_id: string | null
  received_at: number
}

/**
 * Provider deliveries seen, keyed by (provider, delivery id), kept 72 hours: a delivery is
 * processed once; a repeat gets the first answer back.
 */
export class WebhookDeliveryStore {
  readonly #db: SqliteDatabase
  readonly #insert
  readonly #select
  readonly #takeOver
  readonly #complete
  readonly #release
  readonly #purge

  constructor (db: SqliteDatabase) {
    this.#db = db
    this.#insert = db.prepare(`INSERT INTO webhook_deliveries (provider, delivery_id, state, correlation_id, received_at, expires_at)
      VALUES (?, ?, 'in_progress', ?, ?, ?) ON CONFLICT (provider, delivery_id) DO NOTHING`)
    this.#select = db.prepare<[string, string], DeliveryRow>(
      'SELECT state, response_status, response_json, run_id, received_at FROM webhook_deliveries WHERE provider = ? AND delivery_id = ?')
    this.#takeOver = db.prepare(`UPDATE webhook_deliveries SET correlation_id = ?, received_at = ?, expires_at = ?
      WHERE provider = ? AND delivery_id = ? AND state = 'in_progress' AND received_at < ?`)
    this.#complete = db.prepare(`UPDATE webhook_deliveries SET state = 'completed', response_status = ?, response_json = ?, run_id = ?
      WHERE provider = ? AND delivery_id = ?`)
    this.#release = db.prepare("DELETE FROM webhook_deliveries WHERE provider = ? AND delivery_id = ? AND state = 'in_progress'")
    this.#purge = db.prepare('DELETE FROM webhook_deliveries WHERE expires_at < ?')
  }

  /** Claims a delivery for processing, or tells what became of the first one. */
  reserve (provider: string, deliveryId: string, correlationId: string, now = Date.now()): Reservation {
    return this.#db.transaction((): Reservation => {
      if (this.#insert.run(provider, deliveryId, correlationId, now, now + DELIVERY_RETENTION_MS).changes === 1) {
        return { state: 'reserved' }
      }
      const row = this.#select.get(provider, deliveryId)
      if (row === undefined) return { state: 'in_progress' }
      if (row.state === 'completed') {
        return {
          state: 'completed',
          answer: { status: row.response_status ?? 200, body: JSON.parse(row.response_json ?? 'null'), runId: row.run_id }
        }
      }
      const takenOver = this.#takeOver.run(correlationId, now, now + DELIVERY_RETENTION_MS, provider, deliveryId, now - DELIVERY_LEASE_MS)
      return takenOver.changes === 1 ? { state: 'reserved' } : { state: 'in_progress' }
    }).immediate()
  }

  complete (provider: string, deliveryId: string, answer: StoredAnswer): void {
    this.#complete.run(answer.status, JSON.stringify(answer.body ?? null), answer.runId, provider, deliveryId)
  }

  /** Forgets a delivery whose processing failed, so the provider's retry processes it again. */
  release (provider: string, deliveryId: string): void {
    this.#release.run(provider, deliveryId)
  }

  purgeExpired (now = Date.now()): number {
    return this.#purge.run(now).changes
  }
}
