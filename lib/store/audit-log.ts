import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
import type { AuditFilter, AuditRow, AuditTable } from './control-plane.js'

export type { AuditFilter }

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'duplicate' | (string & {})

export interface AuditEntry {
  action: string
  outcome: AuditOutcome
  correlationId: string
  actorKeyId?: string | null
  target?: string | null
  runId?: string | null
  /** Further facts, merged into metadata_json next to correlationId and runId. */
  metadata?: Record<string, unknown>
}

export interface AuditRecord {
  id: number
  at: string
  actorKeyId: string | null
  action: string
  target: string | null
  outcome: string
  metadata: { correlationId: string, runId?: string } & Record<string, unknown>
  worker: string | null
}

function toRecord (row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorKeyId: row.actorKeyId,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    metadata: JSON.parse(row.metadataJson),
    worker: row.worker
  }
}

type AuditPosition = { before: number }
const isAuditPosition = (value: Record<string, unknown>): boolean => Number.isSafeInteger(value.before)

/** One row per mutating request, found again by correlation id; each row names the worker that wrote it. */
export class AuditLog {
  readonly #table: AuditTable
  readonly #worker: string | null

  constructor (table: AuditTable, worker: string | null = null) {
    this.#table = table
    this.#worker = worker
  }

  async record (entry: AuditEntry): Promise<void> {
    const metadata = {
      ...entry.metadata,
      correlationId: entry.correlationId,
      ...(entry.runId ? { runId: entry.runId } : {})
    }
    await this.#table.insert({
      at: Date.now(),
      actorKeyId: entry.actorKeyId ?? null,
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      metadataJson: JSON.stringify(metadata),
      worker: this.#worker
    })
  }

  async findByCorrelationId (correlationId: string): Promise<AuditRecord[]> {
    return (await this.#table.findByCorrelationId(correlationId)).map(toRecord)
  }

  async recent (limit = 100): Promise<AuditRecord[]> {
    return (await this.#table.query({}, limit)).map(toRecord)
  }

  /** Rows matching `filter`, newest first; the cursor continues below the last row shown. */
  async query (filter: AuditFilter, limit: number, cursor?: string): Promise<Page<AuditRecord>> {
    const position = decodeCursor<AuditPosition>(cursor, isAuditPosition)
    // One row more than asked says whether there is a next page.
    const rows = await this.#table.query(filter, limit + 1, position?.before)
    const page = rows.slice(0, limit).map(toRecord)
    const hasMore = rows.length > limit
    return { data: page, cursor: hasMore ? encodeCursor({ before: page[page.length - 1].id }) : null, hasMore }
  }
}
