import type { DecodedFile } from '../deployments/files.js'
import type { Scope } from '../scopes.js'

/**
 * The control plane's tables behind one async interface, with two backends: SQLite
 * (lib/store/sqlite, the embedded default) and PostgreSQL (lib/store/postgres, shared by every
 * worker that names it). The services above it (ApiKeyStore, IdempotencyStore, DeploymentStore,
 * AuditLog, UiSessionStore) hold the rules that do not depend on the database; what must be atomic
 * (a reservation, a seed, an activation, an upload) is one call here, made atomic by each backend
 * its own way. See docs/control-plane.md.
 */
export interface ControlPlane {
  readonly kind: 'sqlite' | 'postgres'
  /** Where it lives, password hidden: the SQLite path or the PostgreSQL URL. */
  readonly location: string
  readonly apiKeys: ApiKeyTable
  readonly idempotency: IdempotencyTable
  readonly deployments: DeploymentTable
  readonly audit: AuditTable
  readonly uiSessions: UiSessionTable
  /**
   * The per-key request counts every worker shares (PostgreSQL); absent where one process counts
   * alone (SQLite: the rate limiter's own memory is exact there).
   */
  readonly rateLimits?: RateLimitTable
  /** True while the database answers a read; never throws. */
  probe (): Promise<boolean>
  /** Commits one small write (the readiness probe); throws when the database does not take writes. */
  probeWrite (at: number): Promise<void>
  /** The number of schema migrations applied. */
  schemaVersion (): Promise<number>
  close (): Promise<void>
}

export interface RateLimitWindow {
  /** This request's place in the key's current window (over `max`: refused). */
  current: number
  /** Milliseconds until that window ends. */
  ttl: number
}

export interface RateLimitTable {
  /** Counts one request of `key` in its fixed window of `windowMs`, which its first request starts. */
  hit (key: string, windowMs: number, max: number): Promise<RateLimitWindow>
  /** Deletes the windows that started more than `olderThanMs` ago; returns how many. */
  purge (olderThanMs: number): Promise<number>
}

export type ApiKeySource = 'seed' | 'cli' | 'api'

export interface ApiKeyRow {
  id: string
  keyHash: Buffer
  name: string | null
  scopes: Scope[]
  rateLimitPerMinute: number | null
  source: ApiKeySource
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

/** A configured key: inserted once (under `newId`), or given these settings when its hash is present. */
export interface ApiKeySeed {
  keyHash: Buffer
  newId: string
  name: string | null
  scopes: Scope[]
  rateLimitPerMinute: number | null
}

export interface ApiKeyTable {
  findLiveByHash (keyHash: Buffer): Promise<ApiKeyRow | undefined>
  findLiveById (id: string): Promise<ApiKeyRow | undefined>
  get (id: string): Promise<ApiKeyRow | undefined>
  /** Every key, revoked ones included, oldest first. */
  list (): Promise<ApiKeyRow[]>
  /** All seeds in one transaction. */
  seed (seeds: readonly ApiKeySeed[], at: number): Promise<void>
  insert (row: ApiKeyRow): Promise<void>
  /** True when the key was live. */
  revoke (id: string, at: number): Promise<boolean>
  touch (id: string, at: number): Promise<void>
  /**
   * A value that changes whenever a key may have been created, revoked or re-seeded, by this
   * process or any other; undefined while the backend cannot tell (then nothing may be cached).
   * Synchronous and cheap: it is asked on every authenticated request.
   */
  changeToken (): string | number | undefined
  /** Copies rows in as they are (same id, hash and timestamps); a row whose id is present is left alone. Returns how many were new. */
  import (rows: readonly ApiKeyRow[]): Promise<number>
}

/** Whose record it is: per API key (or provider), per operation, per Idempotency-Key. */
export interface IdempotencyId {
  owner: string
  scope: string
  key: string
}

export type Reservation =
  /** This caller now holds the record's lease and must finish the work for `reference`. */
  | { kind: 'claimed', reference: string, plan: unknown, lease: number, takeover: boolean }
  | { kind: 'completed', reference: string | null, status: number, bodyJson: string }
  | { kind: 'conflict' }
  | { kind: 'in_progress', leaseUntil: number }

export interface IdempotencyRecordRow extends IdempotencyId {
  fingerprint: string
  state: 'in_progress' | 'completed'
  /** The reference fixed at the first reservation (the run id). */
  reference: string | null
  responseStatus: number | null
  /** While in progress the committed plan, once completed the answer to replay. */
  responseJson: string | null
  leaseUntil: number | null
  createdAt: number
  updatedAt: number
  expiresAt: number
}

export interface ReserveRequest {
  id: IdempotencyId
  fingerprint: string
  proposedReference: string
  now: number
  leaseMs: number
  retentionMs: number
  /** The plan the work resolved beforehand: a new record carries it in its first write. */
  plan?: { value: unknown, json: string }
}

export interface IdempotencyTable {
  /** The one atomic step of every idempotent request (see `decideReservation`). */
  reserve (request: ReserveRequest): Promise<Reservation>
  /** The writes below are fenced by the lease: false when it was lost to another holder. */
  savePlan (id: IdempotencyId, lease: number, planJson: string, now: number): Promise<boolean>
  complete (id: IdempotencyId, lease: number, status: number, bodyJson: string, now: number): Promise<boolean>
  /** Deletes the record (its claim had no side effect). */
  release (id: IdempotencyId, lease: number): Promise<boolean>
  /** Keeps the record, free to be taken over at once. */
  abandon (id: IdempotencyId, lease: number, now: number): Promise<boolean>
  /**
   * At start-up: releases the leases no running process can still hold. Only a backend that one
   * process owns (SQLite) can tell at start-up; on PostgreSQL a reservation takes over a lease
   * whose worker is gone (lib/store/postgres/presence.ts).
   */
  releaseLeasesAtStart (): Promise<number>
  purgeExpired (now: number): Promise<number>
  /** Resolves when a claim on `id` settles (complete, release, abandon), or after `timeoutMs`. */
  waitForChange (id: IdempotencyId, timeoutMs: number): Promise<void>
  /** Records not yet expired, for `compute-worker migrate --from-sqlite`. */
  listLive (now: number): Promise<IdempotencyRecordRow[]>
  /** Copies records in as they are; a present one is left alone. Returns how many were new. */
  import (rows: readonly IdempotencyRecordRow[]): Promise<number>
}

/** A deployment's file as listed on its record (the bytes live in the backend's file store). */
export interface DeploymentFileEntry {
  name: string
  size: number
  sha256: string
}

export interface DeploymentRecord {
  id: string
  digest: string
  manifestJson: string
  workflows: string[]
  files: DeploymentFileEntry[]
  labels: Record<string, string>
  createdByKeyId: string | null
  createdAt: number
  activatedAt: number | null
}

export interface DeploymentPosition {
  createdAt: number
  id: string
}

export interface DeploymentTable {
  /**
   * Stores the record with its files, whole or not at all, even across a crash. With `ifAbsent`
   * (imports) a deployment whose id is present is left alone and false is returned.
   */
  insert (record: DeploymentRecord, files: readonly DecodedFile[], options?: { ifAbsent?: boolean }): Promise<boolean>
  get (id: string): Promise<DeploymentRecord | undefined>
  /** Newest first, after `after` when given. */
  page (limit: number, after?: DeploymentPosition): Promise<DeploymentRecord[]>
  activeId (): Promise<string | undefined>
  /** Stamps the record and moves the single pointer in one transaction; false when `id` is unknown. */
  activate (id: string, at: number): Promise<boolean>
  /**
   * The local directory holding the deployment's files (`<artifactDir>/<id>/`), each checked
   * against its sha256, fetched again when missing or corrupted: what the executor loads.
   * Undefined for an unknown deployment.
   */
  localDirectory (id: string): Promise<string | undefined>
  /** A file's bytes (for copying a deployment elsewhere). */
  readFile (id: string, entry: DeploymentFileEntry): Promise<Buffer>
  /** Start-up clean-up of what a crash mid-upload leaves on local disk; returns what was removed. */
  sweepOrphans (now: number): Promise<string[]>
}

export interface AuditRow {
  id: number
  at: number
  actorKeyId: string | null
  action: string
  target: string | null
  outcome: string
  metadataJson: string
  /** The worker that wrote it (its `workerName`); null on rows from before workers were named. */
  worker: string | null
}

export type NewAuditRow = Omit<AuditRow, 'id'>

/** What `GET /v1/audit` filters by; every given field must match exactly. */
export interface AuditFilter {
  correlationId?: string
  actorKeyId?: string
  action?: string
}

export interface AuditTable {
  insert (row: NewAuditRow): Promise<void>
  /** Rows matching `filter`, newest first, below id `before` when given. */
  query (filter: AuditFilter, limit: number, before?: number): Promise<AuditRow[]>
  /** Oldest first. */
  findByCorrelationId (correlationId: string): Promise<AuditRow[]>
  /** Copies rows in under new ids, each once per `importKey`. Returns how many were new. */
  import (rows: ReadonlyArray<NewAuditRow & { importKey: string }>): Promise<number>
}

export interface UiSessionRow {
  apiKeyId: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  /** The revocation time of the session's key (a revoked key ends its sessions). */
  keyRevokedAt: number | null
}

export interface UiSessionTable {
  insert (id: string, apiKeyId: string, createdAt: number, expiresAt: number): Promise<void>
  get (id: string): Promise<UiSessionRow | undefined>
  touch (id: string, at: number): Promise<void>
  delete (id: string): Promise<void>
  /** Deletes sessions past `expiresBefore`, unused since `idleBefore`, or of revoked keys. */
  purge (now: number, idleBefore: number): Promise<number>
}

/** What a reservation found and decided: the answer, and the write that makes it true. */
export type ReservationDecision =
  | { write: 'none', reservation: Reservation }
  /** No live record: insert a new one (replacing an expired one). */
  | { write: 'insert', replaceExpired: boolean, reservation: Reservation & { kind: 'claimed' } }
  /** A record whose lease ran out: renew the lease and carry on with its reference and plan. */
  | { write: 'renew', reservation: Reservation & { kind: 'claimed' } }

type FoundRecord = Pick<IdempotencyRecordRow, 'fingerprint' | 'state' | 'reference' | 'responseStatus' | 'responseJson' | 'leaseUntil' | 'expiresAt'> & {
  /** The process holding the lease is known to be gone (a shared backend can tell): its lease is over now. */
  holderGone?: boolean
}

/**
 * The rules of a reservation, the same on every backend, which only has to run this between
 * reading the record and writing what it says, atomically. The reference (the run id) is fixed
 * with the first reservation, before any side effect, so whoever finishes the work later (the
 * same process, a retry after a crash, another worker) finishes it for that same reference.
 */
export function decideReservation (found: FoundRecord | undefined, request: ReserveRequest): ReservationDecision {
  const { now, fingerprint, proposedReference } = request
  const lease = now + request.leaseMs
  const expired = found !== undefined && found.expiresAt <= now
  if (found === undefined || expired) {
    return {
      write: 'insert',
      replaceExpired: expired,
      reservation: { kind: 'claimed', reference: proposedReference, plan: request.plan?.value, lease, takeover: false }
    }
  }
  if (found.fingerprint !== fingerprint) return { write: 'none', reservation: { kind: 'conflict' } }
  if (found.state === 'completed') {
    return {
      write: 'none',
      reservation: { kind: 'completed', reference: found.reference, status: found.responseStatus ?? 200, bodyJson: found.responseJson ?? 'null' }
    }
  }
  const leaseUntil = found.leaseUntil ?? 0
  if (leaseUntil > now && found.holderGone !== true) return { write: 'none', reservation: { kind: 'in_progress', leaseUntil } }
  // The holder crashed or gave up after committing a plan: carry on with its reference. The new
  // lease is always above the old one, so the old holder's fenced writes cannot land.
  return {
    write: 'renew',
    reservation: {
      kind: 'claimed',
      reference: found.reference ?? proposedReference,
      plan: found.responseJson === null ? undefined : JSON.parse(found.responseJson),
      lease: Math.max(lease, leaseUntil + 1),
      takeover: true
    }
  }
}
