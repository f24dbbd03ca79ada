import { randomBytes } from 'node:crypto'
import { BoundedMap } from './bounded.js'

// A ticket is redeemed by the request it was made for, within the same tick or the next few.
const TICKET_TTL_MS = 30_000
const MAX_OPEN_TICKETS = 10_000

/**
 * One-use, short-lived, unguessable tickets standing for a value (an API key's identity) inside
 * this process: a request carries the ticket, never the secret the value was proven with.
 */
export class DelegationTickets<T> {
  readonly #open = new BoundedMap<string, { value: T, expiresAt: number }>(MAX_OPEN_TICKETS)

  issue (value: T): string {
    const ticket = randomBytes(32).toString('base64url')
    this.#open.set(ticket, { value, expiresAt: Date.now() + TICKET_TTL_MS })
    return ticket
  }

  /** The ticket's value, once; undefined for an unknown, used or expired ticket. */
  redeem (ticket: string): T | undefined {
    const entry = this.#open.get(ticket)
    if (entry === undefined) return undefined
    this.#open.delete(ticket)
    return entry.expiresAt > Date.now() ? entry.value : undefined
  }
}
