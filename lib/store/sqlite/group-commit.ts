import type { SqliteDatabase } from './database.js'

interface Pending {
  write: () => unknown
  resolve: (value: any) => void
  reject: (error: unknown) => void
}

/**
 * The hot path's writes (idempotency claims and answers, audit rows) of one event-loop turn,
 * committed together in one `BEGIN IMMEDIATE` transaction. A commit costs more than the writes
 * themselves (file locks, and every page it touched written to the WAL), and concurrent
 * requests touch the same pages: under load a trigger then pays a share of one commit instead
 * of three of its own. Each write runs in a savepoint of its own, so one that throws is undone
 * alone; its promise settles only once the batch is committed (or rejects with the commit's
 * error, nothing of the batch written), so a caller that awaited it knows its row is on disk.
 */
export class GroupCommit {
  readonly #db: SqliteDatabase
  readonly #inSavepoint
  readonly #commitAll
  #pending: Pending[] = []

  constructor (db: SqliteDatabase) {
    this.#db = db
    // A transaction function called inside another is a savepoint (better-sqlite3).
    this.#inSavepoint = db.transaction((write: () => unknown) => write())
    this.#commitAll = db.transaction((batch: Pending[]) => batch.map((pending) => {
      try {
        return { ok: true as const, value: this.#inSavepoint(pending.write) }
      } catch (error) {
        // An error SQLite answered by rolling the whole transaction back fails the whole batch.
        if (!db.inTransaction) throw error
        return { ok: false as const, error }
      }
    }))
  }

  /** Runs `write` (synchronous statements) in the next group commit. */
  async run<T> (write: () => T): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      if (this.#pending.push({ write, resolve, reject }) === 1) setImmediate(() => { this.flush() })
    })
  }

  /**
   * Commits what is pending now: the batch's own turn, before the database closes, and before
   * a read of what it writes, so that this process always reads every write it accepted.
   */
  flush (): void {
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    let outcomes
    try {
      if (!this.#db.open) throw new TypeError('The database connection is not open')
      outcomes = this.#commitAll.immediate(batch)
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) batch[index].resolve(outcome.value)
      else batch[index].reject(outcome.error)
    })
  }
}
