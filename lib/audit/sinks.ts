import type { AuditLog } from '../store/audit-log.js'

/** One audited request, as the audit hook hands it to its route's sink. */
export interface AuditedRequest {
  action: string
  actorKeyId: string | null
  correlationId: string
  statusCode: number
  /** `success`, `duplicate` (a replay), `denied` (401/403), `failure`, or the route's own word. */
  outcome: string
  target: string | null
  runId: string | undefined
  /** A finer kind within the action (the event type of `world.events.create`), counted when aggregated. */
  kind: string | undefined
  /** Facts for the row's metadata_json, next to its correlationId and runId. */
  metadata: Record<string, unknown>
}

export interface AuditSink {
  record (audited: AuditedRequest): void | Promise<void>
}

/**
 * One audit_log row per request. Rate-limited refusals (429) are not written: under a flood they
 * would turn every rejected request into a database write.
 */
export class AuditRowSink implements AuditSink {
  readonly #log: AuditLog

  constructor (log: AuditLog) {
    this.#log = log
  }

  async record (audited: AuditedRequest): Promise<void> {
    if (audited.statusCode === 429) return
    const { action, outcome, correlationId, actorKeyId, target, runId, metadata } = audited
    await this.#log.record({ action, outcome, correlationId, actorKeyId, target, runId, metadata })
  }
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
 * One audit_log row per (key, action) and window, for routes called far too often for a row each:
 * a runtime makes hundreds of internal-lane World writes per run, and one row each would make the
 * audit log outgrow the data it audits. Each row keeps the count, the outcomes by status, the
 * kinds, a sample of run ids and the first request's correlation id. Counting costs no write, so
 * rate-limited requests are counted too.
 */
export class AuditAggregator implements AuditSink {
  readonly #log: AuditLog
  readonly #tallies = new Map<string, Tally>()
  readonly #timer: NodeJS.Timeout

  constructor (log: AuditLog, windowMs = 60_000) {
    this.#log = log
    this.#timer = setInterval(() => { this.flush().catch(() => {}) }, windowMs)
    this.#timer.unref()
  }

  record (audited: AuditedRequest): void {
    const key = `${audited.actorKeyId ?? ''}\u0000${audited.action}`
    const now = Date.now()
    let tally = this.#tallies.get(key)
    if (tally === undefined) {
      tally = {
        action: audited.action,
        actorKeyId: audited.actorKeyId,
        firstCorrelationId: audited.correlationId,
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
    if (audited.statusCode >= 400) tally.failures++
    tally.statuses[audited.statusCode] = (tally.statuses[audited.statusCode] ?? 0) + 1
    if (audited.kind !== undefined) tally.kinds[audited.kind] = (tally.kinds[audited.kind] ?? 0) + 1
    if (audited.runId !== undefined && tally.runIds.size < RUN_IDS_PER_ROW) tally.runIds.add(audited.runId)
  }

  /** Writes one row per pending tally and starts a new window. */
  async flush (): Promise<void> {
    const tallies = [...this.#tallies.values()]
    this.#tallies.clear()
    // Started together: each row's write begins at once, none waits for the one before.
    await Promise.all(tallies.map(async (tally) => {
      await this.#log.record({
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
    }))
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}
