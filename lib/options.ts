import { hostname } from 'node:os'
import type { World } from '@workflow/world'
import type { FastifyServerOptions } from 'fastify'
import type { ComputeExecutor } from './compute/types.js'
import { API_KEY_PREFIX, hasValidChecksum } from './api-key-format.js'
import { OptionsError } from './errors.js'
import { isScope, type Scope } from './scopes.js'
import { DEFAULT_SESSION_LIMITS, type UiSessionLimits } from './ui/sessions.js'
import { parseWebhookProviders, type WebhookProvider } from './webhooks/providers.js'
import type { OnWebhook } from './webhooks/receiver.js'

export { OptionsError }

export interface SeedApiKey {
  key: string
  scopes: Scope[]
  name?: string
  /** Overrides `rateLimitPerMinute` for this key (runtimes using the internal lane need far more). */
  rateLimitPerMinute?: number
}

/** The dashboard's session limits (`ui: { … }`; `ui: true` takes the defaults). */
export interface UiOptions {
  /** A session unused this long is over; default 30. */
  sessionIdleMinutes?: number
  /** A session is over this long after sign-in, however busy; default 12. */
  sessionMaxHours?: number
}

export interface ComputeWorkerOptions {
  /** A `@workflow/world` World instance. The worker starts it on ready and closes it on close. */
  world: World
  /** Executes deployed workflow code. Omitted: execution happens elsewhere. */
  compute?: ComputeExecutor
  /** What `WORKFLOW_TARGET_WORLD` must be when `NODE_ENV=production`. */
  expectedTargetWorld?: string
  /** The target the world was built from; defaults to `WORKFLOW_TARGET_WORLD`, else `local`. */
  targetWorld?: string
  /** Keys inserted (hashed) at start-up; a key already present gets these scopes and limits. */
  seedApiKeys?: SeedApiKey[]
  /** Refuse requests that did not arrive over HTTPS (403 `https_required`). */
  requireHttps?: boolean
  /** Believe `x-forwarded-proto`/`-for` from a proxy (Fastify's `trustProxy`). */
  trustProxy?: FastifyServerOptions['trustProxy']
  /** Requests per minute per API key (per IP when unauthenticated). */
  rateLimitPerMinute?: number
  /** The control-plane SQLite file; `:memory:` allowed. Unused when `database` is set. */
  sqlitePath?: string
  /**
   * A `postgres://` URL: the control plane (keys, idempotency, deployments and their files, audit,
   * sessions) in that database's `compute_worker` schema, shared by every worker that names it.
   */
  database?: string
  /** Where deployment artifacts are stored. */
  artifactDir?: string
  /**
   * This worker's name in the audit log (each row names the worker that wrote it), for telling
   * the workers of one database apart. Default: the host name and the process id.
   */
  workerName?: string
  /** Largest decoded deployment (all files together), in bytes. */
  maxDeploymentBytes?: number
  /** How long idempotency records are kept. */
  idempotencyRetentionHours?: number
  /** How long a duplicate of an idempotent request still in flight waits for its answer before 409 `idempotency_in_progress`. */
  idempotencyWaitMs?: number
  /** The window of the internal lane's aggregated audit rows (one row per key and action each window). */
  auditWindowMs?: number
  /** Silence after which an internal-lane live read sends a PING frame (keeps proxies from closing it). */
  lanePingIntervalMs?: number
  /**
   * Provider configuration for `POST /v1/webhooks/:provider`:
   * `{ [provider]: { scheme: 'github' | 'stripe' | 'standard', secret | secrets, trigger?: { workflowName } } }`.
   */
  webhooks?: Record<string, unknown>
  /** Library hook for `POST /v1/webhooks/:provider`; its `{ status, body }` answer is sent back. */
  onWebhook?: OnWebhook
  /** The operator's dashboard at `/ui` (default on); `false` serves none of it. */
  ui?: boolean | UiOptions
  /** `GET /metrics` in the Prometheus text format (scope `metrics:read`); false collects nothing. Default true. */
  metrics?: boolean
  /** Fastify logger options of the standalone fronts (ignored by `computeWorkerPlugin`). */
  logger?: FastifyServerOptions['logger'] | boolean
}

export interface ResolvedOptions {
  world: World
  compute: ComputeExecutor | undefined
  expectedTargetWorld: string | undefined
  targetWorld: string
  seedApiKeys: SeedApiKey[]
  requireHttps: boolean
  trustProxy: FastifyServerOptions['trustProxy']
  rateLimitPerMinute: number
  sqlitePath: string
  database: string | undefined
  artifactDir: string
  workerName: string
  maxDeploymentBytes: number
  idempotencyRetentionHours: number
  /** Timings the plugins default themselves when unset. */
  idempotencyWaitMs: number | undefined
  auditWindowMs: number | undefined
  lanePingIntervalMs: number | undefined
  webhookProviders: ReadonlyMap<string, WebhookProvider>
  onWebhook: OnWebhook | undefined
  /** The dashboard's settings; false when it is off. */
  ui: { sessionLimits: UiSessionLimits } | false
  metrics: boolean
}

export const DEFAULTS = {
  rateLimitPerMinute: 600,
  sqlitePath: './.compute-worker/worker.db',
  artifactDir: './.compute-worker/artifacts',
  maxDeploymentBytes: 64 * 1024 * 1024,
  idempotencyRetentionHours: 24,
  targetWorld: 'local'
} as const

function positiveInteger (name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new OptionsError(name, `must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

function optionalInteger (name: string, value: unknown, min: 0 | 1): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new OptionsError(name, `must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(value)}`)
  }
  return value
}

const MAX_WORKER_NAME_LENGTH = 128

function validateWorkerName (name: unknown): string {
  if (name === undefined || name === '') return `${hostname()}:${process.pid}`
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.length > MAX_WORKER_NAME_LENGTH || /[\x00-\x1f\x7f]/.test(name)) {
    throw new OptionsError('workerName', `must be a string of at most ${MAX_WORKER_NAME_LENGTH} printable characters`)
  }
  return name
}

function validateDatabase (database: unknown): string | undefined {
  if (database === undefined || database === '') return undefined
  if (typeof database !== 'string' || !/^postgres(ql)?:\/\//.test(database.trim())) {
    throw new OptionsError('database', 'must be a postgres:// URL (postgres://user:password@host:5432/database)')
  }
  return database.trim()
}

function validateSeedApiKeys (keys: unknown): SeedApiKey[] {
  if (keys === undefined) return []
  if (!Array.isArray(keys)) throw new OptionsError('seedApiKeys', 'must be an array')
  return keys.map((entry, i) => {
    const at = `seedApiKeys[${i}]`
    if (entry === null || typeof entry !== 'object') throw new OptionsError(at, 'must be an object')
    const { key, scopes, name, rateLimitPerMinute } = entry as Record<string, unknown>
    if (typeof key !== 'string' || key.length < 16) {
      throw new OptionsError(`${at}.key`, 'must be a string of at least 16 characters')
    }
    if (key.startsWith(API_KEY_PREFIX) && !hasValidChecksum(key)) {
      // The worker refuses such a key before any lookup: seeding it would make a key that never works.
      throw new OptionsError(`${at}.key`, `starts with ${API_KEY_PREFIX} but is not a well-formed key (bad checksum or length): a copy error?`)
    }
    if (!Array.isArray(scopes) || !scopes.every(isScope)) {
      throw new OptionsError(`${at}.scopes`, `must be an array of known scopes, got ${JSON.stringify(scopes)}`)
    }
    if (name !== undefined && typeof name !== 'string') throw new OptionsError(`${at}.name`, 'must be a string')
    return {
      key,
      scopes: [...new Set(scopes)],
      name,
      rateLimitPerMinute: rateLimitPerMinute === undefined
        ? undefined
        : positiveInteger(`${at}.rateLimitPerMinute`, rateLimitPerMinute, 0)
    }
  })
}

function resolveUi (ui: unknown): ResolvedOptions['ui'] {
  if (ui === false) return false
  if (ui === undefined || ui === true) return { sessionLimits: DEFAULT_SESSION_LIMITS }
  if (ui === null || typeof ui !== 'object') throw new OptionsError('ui', 'must be a boolean or { sessionIdleMinutes?, sessionMaxHours? }')
  const { sessionIdleMinutes, sessionMaxHours } = ui as UiOptions
  return {
    sessionLimits: {
      idleMs: positiveInteger('ui.sessionIdleMinutes', sessionIdleMinutes, DEFAULT_SESSION_LIMITS.idleMs / 60_000) * 60_000,
      absoluteMs: positiveInteger('ui.sessionMaxHours', sessionMaxHours, DEFAULT_SESSION_LIMITS.absoluteMs / 3_600_000) * 3_600_000
    }
  }
}

function isWorld (value: unknown): value is World {
  const world = value as World | undefined
  return typeof world === 'object' && world !== null &&
    typeof world.queue === 'function' && typeof world.events?.create === 'function' &&
    typeof world.runs?.get === 'function'
}

export function resolveOptions (options: ComputeWorkerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new OptionsError('options', 'must be an object')
  if (!isWorld(options.world)) {
    throw new OptionsError('world', 'must be a @workflow/world World instance (queue, events, runs, …)')
  }
  if (options.webhooks !== undefined && (typeof options.webhooks !== 'object' || options.webhooks === null)) {
    throw new OptionsError('webhooks', 'must be an object keyed by provider name')
  }
  if (options.onWebhook !== undefined && typeof options.onWebhook !== 'function') {
    throw new OptionsError('onWebhook', 'must be a function')
  }
  if (options.metrics !== undefined && typeof options.metrics !== 'boolean') {
    throw new OptionsError('metrics', `must be true or false, got ${JSON.stringify(options.metrics)}`)
  }
  return {
    world: options.world,
    compute: options.compute,
    expectedTargetWorld: options.expectedTargetWorld || undefined,
    targetWorld: options.targetWorld ?? process.env.WORKFLOW_TARGET_WORLD ?? DEFAULTS.targetWorld,
    seedApiKeys: validateSeedApiKeys(options.seedApiKeys),
    requireHttps: options.requireHttps === true,
    trustProxy: options.trustProxy ?? false,
    rateLimitPerMinute: positiveInteger('rateLimitPerMinute', options.rateLimitPerMinute, DEFAULTS.rateLimitPerMinute),
    sqlitePath: options.sqlitePath ?? DEFAULTS.sqlitePath,
    database: validateDatabase(options.database),
    artifactDir: options.artifactDir ?? DEFAULTS.artifactDir,
    workerName: validateWorkerName(options.workerName),
    maxDeploymentBytes: positiveInteger('maxDeploymentBytes', options.maxDeploymentBytes, DEFAULTS.maxDeploymentBytes),
    idempotencyRetentionHours: positiveInteger('idempotencyRetentionHours', options.idempotencyRetentionHours, DEFAULTS.idempotencyRetentionHours),
    idempotencyWaitMs: optionalInteger('idempotencyWaitMs', options.idempotencyWaitMs, 0),
    auditWindowMs: optionalInteger('auditWindowMs', options.auditWindowMs, 1),
    lanePingIntervalMs: optionalInteger('lanePingIntervalMs', options.lanePingIntervalMs, 1),
    webhookProviders: parseWebhookProviders(options.webhooks ?? {}),
    onWebhook: options.onWebhook,
    ui: resolveUi(options.ui),
    metrics: options.metrics ?? true
  }
}
