import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { SqliteDatabase } from '../store/database.js'

export interface UiSessionLimits {
  /** A session unused this long is over. */
  idleMs: number
  /** A session is over this long after sign-in, however busy. */
  absoluteMs: number
}

export const DEFAULT_SESSION_LIMITS: UiSessionLimits = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000
}

export interface UiSession {
  /** The API key the session was made from. */
  keyId: string
  /** What every state-changing form of this session must send back. */
  csrfToken: string
  createdAt: Date
  expiresAt: Date
}

interface SessionRow {
  api_key_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  revoked_at: number | null
}

// last_seen_at is written at most this often per session (and at least ten times per idle period).
const TOUCH_INTERVAL_MS = 60_000

/** The row id: a database reader learns no cookie. */
function sessionId (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Derived from the cookie, so it needs no storage and is known only to whoever holds the cookie. */
function csrfTokenOf (token: string): string {
  return createHmac('sha256', token).update('compute-worker ui csrf').digest('base64url')
}

/**
 * The dashboard's sign-in sessions (table `ui_sessions`): made from an API key, over after an idle
 * period or an absolute lifetime, or as soon as the key is revoked. The cookie is the only copy of
 * the session's secret. Async, so that a control plane on another database can take it over as is.
 */
export class UiSessionStore {
  readonly #limits: UiSessionLimits
  readonly #now: () => number
  readonly #insert
  readonly #get
  readonly #touch
  readonly #delete
  readonly #purge

  constructor (db: SqliteDatabase, limits: UiSessionLimits = DEFAULT_SESSION_LIMITS, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
    this.#insert = db.prepare(`INSERT INTO ui_sessions (id, api_key_id, created_at, last_seen_at, expires_at)
      VALUES (?, ?, ?, ?, ?)`)
    this.#get = db.prepare<[string], SessionRow>(`SELECT s.api_key_id, s.created_at, s.last_seen_at, s.expires_at, k.revoked_at
      FROM ui_sessions s JOIN api_keys k ON k.id = s.api_key_id WHERE s.id = ?`)
    this.#touch = db.prepare('UPDATE ui_sessions SET last_seen_at = ? WHERE id = ?')
    this.#delete = db.prepare('DELETE FROM ui_sessions WHERE id = ?')
    this.#purge = db.prepare(`DELETE FROM ui_sessions WHERE expires_at <= @now OR last_seen_at <= @idleBefore
      OR api_key_id IN (SELECT id FROM api_keys WHERE revoked_at IS NOT NULL)`)
  }

  get limits (): UiSessionLimits {
    return this.#limits
  }

  /** A new session for the key; the token goes into the cookie and nowhere else. */
  async create (keyId: string): Promise<{ token: string, session: UiSession }> {
    const token = randomBytes(32).toString('base64url')
    const now = this.#now()
    const expiresAt = now + this.#limits.absoluteMs
    this.#insert.run(sessionId(token), keyId, now, now, expiresAt)
    return { token, session: { keyId, csrfToken: csrfTokenOf(token), createdAt: new Date(now), expiresAt: new Date(expiresAt) } }
  }

  /** The live session of a cookie, or undefined (unknown, idle too long, too old, key revoked). */
  async resolve (token: string): Promise<UiSession | undefined> {
    const id = sessionId(token)
    const row = this.#get.get(id)
    if (row === undefined) return undefined
    const now = this.#now()
    if (row.revoked_at !== null || now >= row.expires_at || now - row.last_seen_at >= this.#limits.idleMs) {
      this.#delete.run(id)
      return undefined
    }
    if (now - row.last_seen_at >= Math.min(TOUCH_INTERVAL_MS, this.#limits.idleMs / 10)) this.#touch.run(now, id)
    return { keyId: row.api_key_id, csrfToken: csrfTokenOf(token), createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at) }
  }

  /** Sign-out: the cookie stops working at once. */
  async end (token: string): Promise<void> {
    this.#delete.run(sessionId(token))
  }

  /** Deletes the sessions that are over; resolve() refuses them anyway. */
  async purgeExpired (): Promise<number> {
    const now = this.#now()
    return this.#purge.run({ now, idleBefore: now - this.#limits.idleMs }).changes
  }
}
