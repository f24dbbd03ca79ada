import pg from 'pg'
import { SCHEMA } from './pool.js'

/**
 * The class half of every worker session's advisory-lock key `(class, session number)`; the
 * two-integer form keeps these locks apart from any single-key advisory lock on the database.
 */
export const HOLDER_LOCK_CLASS = 'compute-worker:lease-holder'

/**
 * SQL true when the session numbered by the expression holds no lock: its worker is gone. A shared
 * probe, so that concurrent takeovers of one dead worker's leases (each in its own transaction,
 * holding the probe until commit) do not see each other's probe as the worker still alive.
 */
export const holderGone = (holder: string): string => `pg_try_advisory_xact_lock_shared(hashtext('${HOLDER_LOCK_CLASS}'), ${holder})`

export interface PresenceOptions {
  /** How long after losing its connection the session is opened again; default 1 s. */
  reconnectMs?: number
  onError?: (error: Error) => void
}

const DEFAULT_RECONNECT_MS = 1_000

/**
 * This worker's presence in the shared database: one dedicated connection that holds the
 * session-level advisory lock `(HOLDER_LOCK_CLASS, n)`, n this session's number from
 * `worker_sessions`. The leases this worker claims name n. PostgreSQL frees a session's locks
 * when its connection ends, so when a worker dies (SIGKILL, crash, or its machine gone once the
 * server's TCP keepalive notices) its lock is free at once, and another worker takes its leases
 * over on their next reservation instead of waiting them out. A lost connection is opened again
 * under a new number: the leases held under the old one may be taken over meanwhile, which the
 * lease fencing makes safe (the old claim's writes no longer land).
 */
export class WorkerPresence {
  readonly #connectionString: string
  readonly #reconnectMs: number
  readonly #onError: (error: Error) => void
  #client: pg.Client | undefined
  #holder: number | undefined
  #retry: NodeJS.Timeout | undefined
  #closed = false

  constructor (connectionString: string, options: PresenceOptions = {}) {
    this.#connectionString = connectionString
    this.#reconnectMs = options.reconnectMs ?? DEFAULT_RECONNECT_MS
    this.#onError = options.onError ?? (() => {})
  }

  /** This session's number while its lock is held; undefined while (re)connecting. */
  get holder (): number | undefined {
    return this.#holder
  }

  /** Opens the session; throws when the database cannot be reached. */
  async start (): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 10_000, keepAlive: true })
    client.on('error', (error) => {
      this.#onError(error)
      this.#lost(client)
    })
    client.on('end', () => this.#lost(client))
    try {
      await client.connect()
      // The server notices a vanished machine within ~25 s (its default keepalive waits hours);
      // a server-wide idle_session_timeout must not end this idle session.
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3')
      await client.query('SET idle_session_timeout = 0').catch(() => {}) // PostgreSQL 14 and later
      const { rows: [{ holder }] } = await client.query<{ holder: number }>(`SELECT nextval('${SCHEMA}.worker_sessions')::int AS holder`)
      await client.query(`SELECT pg_advisory_lock(hashtext('${HOLDER_LOCK_CLASS}'), $1)`, [holder])
      if (this.#closed) throw new Error('closed')
      this.#client = client
      this.#holder = holder
    } catch (error) {
      await client.end().catch(() => {})
      throw error
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    const client = this.#client
    this.#client = undefined
    this.#holder = undefined
    await client?.end().catch(() => {})
  }

  #lost (client: pg.Client): void {
    if (this.#client !== client) return
    this.#client = undefined
    this.#holder = undefined
    client.end().catch(() => {})
    this.#reconnect()
  }

  #reconnect (): void {
    if (this.#closed) return
    this.#retry = setTimeout(() => {
      this.start().catch((error: Error) => {
        this.#onError(error)
        this.#reconnect()
      })
    }, this.#reconnectMs)
    this.#retry.unref()
  }
}
