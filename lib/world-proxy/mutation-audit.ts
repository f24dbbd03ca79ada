import type { AuditEntry } from '../store/audit-log.js'

export interface MutationRecord {
  action: string
  actorKeyId: string | null
  statusCode: number
  correlationId: string
  runId?: string
  /** A finer kind within the action (the event type of events.create). */
  kind?: string
}

interface Tally {
  action: string
  actorKeyId: string | null
  firstCorrelationId: string
  firstAt: number
  lastAt: number
  count: number
  failures: number
  statuses: Record<string, number>
  kinds: Record<string, number>
  runIds: Set<string>
}

const RUN_IDS_PER_ROW = 20

/**
 * Aggregates the internal lane's mutations into one audit row per (key, action) and window.
 * A runtime makes hundreds of World writes per run; one row each would make the audit log
 * outgrow the data it audits. Each row keeps the count, the outcomes by status, the event kinds,
 * a sample of run ids and the first request's correlation id.
 */
export class MutationAuditAggregator {
  readonly #write: (entry: AuditEntry) => void
  readonly #tallies = new Map<string, Tally>()
  readonly #timer: NodeJS.Timeout

  constructor (write: (entry: AuditEntry) => void, windowMs = 60_000) {
    this.#write = write
    this.#timer = setInterval(() => this.flush(), windowMs)
    this.#timer.unref()
  }

  record (mutation: MutationRecord): void {
    const key = `${mutation.actorKeyId ?? ''}\u0000${mutation.action}`
    const now = Date.now()
    let tally = this.#tallies.get(key)
    if (tally === undefined) {
      tally = {
        action: mutation.action,
        actorKeyId: mutation.actorKeyId,
        firstCorrelationId: mutation.correlationId,
        firstAt: now,
        lastAt: now,
        count: 0,
        failures: 0,
        statuses: {},
        kinds: {},
        runIds: new Set()
      }
      this.#tallies.set(key, tally)
    }
    tally.count++
    tally.lastAt = now
    if (mutation.statusCode >= 400) tally.failures++
    tally.statuses[mutation.statusCode] = (tally.statuses[mutation.statusCode] ?? 0) + 1
    if (mutation.kind !== undefined) tally.kinds[mutation.kind] = (tally.kinds[mutation.kind] ?? 0) + 1
    if (mutation.runId !== undefined && tally.runIds.size < RUN_IDS_PER_ROW) tally.runIds.add(mutation.runId)
  }

  /** Writes one row per pending tally and starts a new window. */
  flush (): void {
    const tallies = [...this.#tallies.values()]
    this.#tallies.clear()
    for (const tally of tallies) {
      this.#write({
        action: tally.action,
        outcome: tally.failures === 0 ? 'success' : tally.failures === tally.count ? 'failure' : 'partial',
        correlationId: tally.firstCorrelationId,
        actorKeyId: tally.actorKeyId,
        runId: tally.runIds.size === 1 ? [...tally.runIds][0] : undefined,
        metadata: {
          aggregated: true,
          count: tally.count,
          failures: tally.failures,
          statuses: tally.statuses,
          ...(Object.keys(tally.kinds).length > 0 ? { kinds: tally.kinds } : {}),
          runIds: [...tally.runIds],
          from: new Date(tally.firstAt).toISOString(),
          to: new Date(tally.lastAt).toISOString()
        }
      })
    }
  }

  close (): void {
    clearInterval(this.#timer)
    this.flush()
  }
}
