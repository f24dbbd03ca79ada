import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { UiSessionTable } from '../store/control-plane.js'

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
 * the session's secret.
 */
export class UiSessionStore {
  readonly #table: UiSessionTable
  readonly #limits: UiSessionLimits
  readonly #now: () => number

  constructor (table: UiSessionTable, limits: UiSessionLimits = DEFAULT_SESSION_LIMITS, now: () => number = Date.now) {
    this.#table = table
    this.#limits = limits
    this.#now = now
  }

  get limits (): UiSessionLimits {
    return this.#limits
  }

  /** A new session for the key; the token goes into the cookie and nowhere else. */
  async create (keyId: string): Promise<{ token: string, session: UiSession }> {
    const token = randomBytes(32).toString('base64url')
    const now = this.#now()
    const expiresAt = now + this.#limits.absoluteMs
    await this.#table.insert(sessionId(token), keyId, now, expiresAt)
    return { token, session: { keyId, csrfToken: csrfTokenOf(token), createdAt: new Date(now), expiresAt: new Date(expiresAt) } }
  }

  /** The live session of a cookie, or undefined (unknown, idle too long, too old, key revoked). */
  async resolve (token: string): Promise<UiSession | undefined> {
    const id = sessionId(token)
    const row = await this.#table.get(id)
    if (row === undefined) return undefined
    const now = this.#now()
    if (row.keyRevokedAt !== null || now >= row.expiresAt || now - row.lastSeenAt >= this.#limits.idleMs) {
      await this.#table.delete(id)
      return undefined
    }
    if (now - row.lastSeenAt >= Math.min(TOUCH_INTERVAL_MS, this.#limits.idleMs / 10)) await this.#table.touch(id, now)
    return { keyId: row.apiKeyId, csrfToken: csrfTokenOf(token), createdAt: new Date(row.createdAt), expiresAt: new Date(row.expiresAt) }
  }

  /** Sign-out: the cookie stops working at once. */
  async end (token: string): Promise<void> {
    await this.#table.delete(sessionId(token))
  }

  /** Deletes the sessions that are over; resolve() refuses them anyway. */
  async purgeExpired (): Promise<number> {
    const now = this.#now()
    return await this.#table.purge(now, now - this.#limits.idleMs)
  }
}
