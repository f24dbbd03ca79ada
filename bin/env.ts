import { hostname } from 'node:os'
import { DELIVERY_SECRET_ENV } from '../lib/wire/credentials.js'
import { DEFAULTS, type ComputeWorkerOptions } from '../lib/options.js'
import { POSTGRES_WORLD, type PostgresWorldSettings } from '../lib/world/postgres.js'

/** Everything the standalone server reads from its environment (every variable is listed, with a comment, in .env.example). */
export interface StandaloneSettings {
  port: number
  host: string
  logLevel: string
  nodeEnv: string | undefined
  targetWorld: string
  localDataDir: string
  localBaseUrl: string | undefined
  /** Set when the target is world-postgres. */
  postgres: PostgresWorldSettings | undefined
  compute: 'in-process' | 'none'
  /** Signs the World's queue deliveries and admits them at the executor's routes. */
  deliverySecret: string | undefined
  /** Settings of the in-process executor. */
  inProcess: {
    maxLoadedDeployments: number | undefined
    threadMemoryMb: number | undefined
  }
  options: Omit<ComputeWorkerOptions, 'world' | 'compute'>
  /** Set when OTEL_* configure a trace exporter: tracing is off otherwise. */
  tracing: TracingSettings | undefined
}

/** The span exporters OTEL_TRACES_EXPORTER names, and the OTLP protocol. */
export interface TracingSettings {
  exporters: Array<'otlp' | 'console'>
  protocol: 'http/protobuf' | 'http/json'
}

export class SettingsError extends Error {
  constructor (variable: string, problem: string) {
    super(`${variable} ${problem}`)
    this.name = 'SettingsError'
  }
}

type Env = Record<string, string | undefined>

function boolean (env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return undefined
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  throw new SettingsError(name, `must be true or false, got "${env[name]}"`)
}

function integer (env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(name, `must be an integer from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

/** COMPUTE_WORKER_UI=false turns the dashboard off; its session limits have variables of their own. */
function ui (env: Env): ComputeWorkerOptions['ui'] {
  if (boolean(env, 'COMPUTE_WORKER_UI') === false) return false
  const sessionIdleMinutes = integer(env, 'COMPUTE_WORKER_UI_SESSION_IDLE_MINUTES', 1, 7 * 24 * 60)
  const sessionMaxHours = integer(env, 'COMPUTE_WORKER_UI_SESSION_MAX_HOURS', 1, 24 * 365)
  return sessionIdleMinutes === undefined && sessionMaxHours === undefined ? true : { sessionIdleMinutes, sessionMaxHours }
}

function json (env: Env, name: string): unknown {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return undefined
  try {
    return JSON.parse(raw)
  } catch (error) {
    throw new SettingsError(name, `must be JSON: ${(error as Error).message}`)
  }
}

/** `COMPUTE_WORKER_TRUST_PROXY`: true/false, a hop count, or a comma-separated list of addresses. */
function trustProxy (env: Env): ComputeWorkerOptions['trustProxy'] {
  const raw = env.COMPUTE_WORKER_TRUST_PROXY?.trim()
  if (raw === undefined || raw === '') return undefined
  // A hop count: Fastify accepts a number at run time though its type omits it.
  if (/^\d+$/.test(raw)) return Number(raw) as unknown as string
  const flag = ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())
    ? true
    : ['0', 'false', 'no', 'off'].includes(raw.toLowerCase()) ? false : undefined
  return flag ?? raw.split(',').map((part) => part.trim()).filter(Boolean)
}

function postgres (env: Env, targetWorld: string): PostgresWorldSettings | undefined {
  if (targetWorld !== POSTGRES_WORLD) return undefined
  const connectionString = env.WORKFLOW_POSTGRES_URL?.trim()
  if (connectionString === undefined || connectionString === '') {
    throw new SettingsError('WORKFLOW_POSTGRES_URL', `is required with WORKFLOW_TARGET_WORLD=${POSTGRES_WORLD} (postgres://user:password@host:5432/database)`)
  }
  return {
    connectionString,
    jobPrefix: env.WORKFLOW_POSTGRES_JOB_PREFIX?.trim() || undefined,
    queueConcurrency: integer(env, 'WORKFLOW_POSTGRES_WORKER_CONCURRENCY', 1, 10_000),
    maxPoolSize: integer(env, 'WORKFLOW_POSTGRES_MAX_POOL_SIZE', 1, 10_000)
  }
}

/**
 * Tracing is on when OTEL_TRACES_EXPORTER names an exporter, or an OTLP endpoint is set without
 * it (the SDK's default exporter is otlp); OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none
 * turn it off. The exporters read their other OTEL_EXPORTER_OTLP_* variables themselves.
 */
function tracing (env: Env): TracingSettings | undefined {
  if (boolean(env, 'OTEL_SDK_DISABLED') === true) return undefined
  const named = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean)
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  const exporters = named.length === 0 && endpoint !== undefined ? ['otlp'] : named.filter((name) => name !== 'none')
  if (exporters.length === 0) return undefined
  for (const name of exporters) {
    if (name !== 'otlp' && name !== 'console') throw new SettingsError('OTEL_TRACES_EXPORTER', `must list otlp, console or none, got "${name}"`)
  }
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const protocol = env[protocolVariable]?.trim() || 'http/protobuf'
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new SettingsError(protocolVariable, `must be http/protobuf or http/json (grpc is not built in), got "${protocol}"`)
  }
  return { exporters: [...new Set(exporters)] as TracingSettings['exporters'], protocol }
}

/** `COMPUTE_WORKER_SQLITE_PATH`: the control-plane file, shared by the server and the admin commands. */
export function readSqlitePath (env: Env = process.env): string {
  return env.COMPUTE_WORKER_SQLITE_PATH?.trim() || DEFAULTS.sqlitePath
}

/**
 * `COMPUTE_WORKER_DATABASE_URL`: the control plane's PostgreSQL database. Unset on world-postgres,
 * it is the World's database (`WORKFLOW_POSTGRES_URL`), so the two variables that move the World
 * move everything. Undefined: SQLite.
 */
export function readDatabaseUrl (env: Env = process.env): string | undefined {
  const named = env.COMPUTE_WORKER_DATABASE_URL?.trim()
  if (named !== undefined && named !== '') {
    if (!/^postgres(ql)?:\/\//.test(named)) {
      throw new SettingsError('COMPUTE_WORKER_DATABASE_URL', 'must be a postgres:// URL (postgres://user:password@host:5432/database)')
    }
    return named
  }
  const targetWorld = env.WORKFLOW_TARGET_WORLD?.trim() || DEFAULTS.targetWorld
  return targetWorld === POSTGRES_WORLD ? env.WORKFLOW_POSTGRES_URL?.trim() || undefined : undefined
}

/**
 * `COMPUTE_WORKER_NAME`: this worker's name in the audit log. Unset: the host name and the port
 * (stable across restarts); on port 0 the options' default (the host name and the process id).
 */
function workerName (env: Env): string | undefined {
  const named = env.COMPUTE_WORKER_NAME?.trim()
  if (named !== undefined && named !== '') return named
  const port = integer(env, 'PORT', 0, 65535) ?? 8080
  return port === 0 ? undefined : `${hostname()}:${port}`
}

export function readStandaloneSettings (env: Env = process.env): StandaloneSettings {
  const targetWorld = env.WORKFLOW_TARGET_WORLD?.trim() || DEFAULTS.targetWorld
  const compute = env.COMPUTE_WORKER_COMPUTE?.trim() || 'in-process'
  if (compute !== 'in-process' && compute !== 'none') {
    throw new SettingsError('COMPUTE_WORKER_COMPUTE', `must be "in-process" or "none", got "${compute}"`)
  }
  return {
    port: integer(env, 'PORT', 0, 65535) ?? 8080,
    host: env.HOST?.trim() || '127.0.0.1',
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    nodeEnv: env.NODE_ENV,
    targetWorld,
    localDataDir: env.WORKFLOW_LOCAL_DATA_DIR?.trim() || './.compute-worker/world',
    localBaseUrl: env.WORKFLOW_LOCAL_BASE_URL?.trim() || undefined,
    postgres: postgres(env, targetWorld),
    compute,
    deliverySecret: env[DELIVERY_SECRET_ENV]?.trim() || undefined,
    inProcess: {
      maxLoadedDeployments: integer(env, 'COMPUTE_WORKER_MAX_LOADED_DEPLOYMENTS', 1, 1_000),
      threadMemoryMb: integer(env, 'COMPUTE_WORKER_DEPLOYMENT_MEMORY_MB', 32, 1_048_576)
    },
    tracing: tracing(env),
    options: {
      targetWorld,
      expectedTargetWorld: env.COMPUTE_WORKER_EXPECTED_TARGET_WORLD?.trim() || undefined,
      seedApiKeys: json(env, 'COMPUTE_WORKER_API_KEYS') as ComputeWorkerOptions['seedApiKeys'],
      requireHttps: boolean(env, 'COMPUTE_WORKER_REQUIRE_HTTPS'),
      trustProxy: trustProxy(env),
      rateLimitPerMinute: integer(env, 'COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE', 1, 10_000_000),
      sqlitePath: readSqlitePath(env),
      database: readDatabaseUrl(env),
      artifactDir: env.COMPUTE_WORKER_ARTIFACT_DIR?.trim() || DEFAULTS.artifactDir,
      workerName: workerName(env),
      maxDeploymentBytes: integer(env, 'COMPUTE_WORKER_MAX_DEPLOYMENT_BYTES', 1, Number.MAX_SAFE_INTEGER),
      idempotencyRetentionHours: integer(env, 'COMPUTE_WORKER_IDEMPOTENCY_RETENTION_HOURS', 1, 24 * 365),
      webhooks: json(env, 'COMPUTE_WORKER_WEBHOOKS') as ComputeWorkerOptions['webhooks'],
      ui: ui(env),
      metrics: boolean(env, 'COMPUTE_WORKER_METRICS')
    }
  }
}
