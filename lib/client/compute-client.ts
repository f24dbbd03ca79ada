import { randomUUID } from 'node:crypto'
import { computeClientErrorFor, type ComputeClientError } from './errors.js'
import { backoffDelay, parseRetryAfter, sleep } from './retry.js'

export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface TriggerRunRequest {
  /** A workflow id of the deployment's manifest, or its export name when unique. */
  workflowName: string
  /** The workflow's arguments; default []. */
  input?: unknown[]
  /** Default: the active deployment. */
  deploymentId?: string
}

export interface TriggeredRun {
  runId: string
  status: RunStatus
  workflowName: string
  deploymentId: string
  createdAt: string
}

export interface RunView extends TriggeredRun {
  startedAt?: string
  completedAt?: string
  /** The workflow's return value, decoded to JSON (absent with resolveData: 'none'). */
  output?: unknown
  error?: { message: string, stack?: string, code?: string }
}

export interface ResumedHook {
  runId: string
  hookId: string
}

export interface DeploymentFile { name: string, size: number, sha256: string }

export interface Deployment {
  id: string
  digest: string
  workflows: string[]
  files: DeploymentFile[]
  labels: Record<string, string>
  createdAt: string
  active: boolean
  activatedAt: string | null
}

export interface CreateDeploymentRequest {
  /** The SDK build's manifest.json. */
  manifest: Record<string, unknown>
  /** Bundles by relative path: base64 strings, or bytes (encoded here). */
  files?: Record<string, string | Uint8Array>
  labels?: Record<string, string>
}

export interface HealthStatus {
  status: 'ok' | 'unavailable'
  version: string
  world: { status: 'ok' | 'unavailable', target: string, specVersion?: number, error?: string, checkedAt: string }
  database: 'ok' | 'unavailable'
}

export interface ComputeClientOptions {
  /** The worker's URL (a path prefix, for a worker mounted under one, is kept). */
  baseUrl: string
  apiKey: string
  /** Replaces the global `fetch`. */
  fetch?: typeof fetch
  /** Extra attempts after 429, 503 or a network failure, where a repeat is safe. Default 3. */
  retries?: number
  /** First backoff delay, doubled per attempt with jitter. Default 200 ms. */
  retryDelayMs?: number
  /** Longest wait between attempts, Retry-After included. Default 10 s. */
  maxRetryDelayMs?: number
  /** Deadline of one attempt. Default 30 s. */
  timeoutMs?: number
}

export interface CallOptions {
  /** Sent as x-workflow-correlation-id (one is generated otherwise); the same on every retry. */
  correlationId?: string
  signal?: AbortSignal
}

/**
 * How a call may be repeated. `always`: reads, and writes that are idempotent by construction
 * (a trigger with its Idempotency-Key, an activation). `throttled`: only after a 429, which the
 * worker answers before doing anything. Resume, cancel and uploads are `throttled`: after a
 * network failure or a 503 their fate is unknown and a repeat could act twice.
 */
type RetryPolicy = 'always' | 'throttled'

interface Request {
  method: 'GET' | 'POST'
  path: string
  body?: unknown
  headers?: Record<string, string>
  retry: RetryPolicy
  /** Statuses answered with their body instead of an error. */
  acceptStatuses?: number[]
}

const CORRELATION_HEADER = 'x-workflow-correlation-id'

function toBase64 (value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
}

/** A typed client of the worker's public lane (contract sections 4, 5 and 8). */
export class ComputeClient {
  readonly #baseUrl: string
  readonly #apiKey: string
  readonly #fetch: typeof fetch
  readonly #retries: number
  readonly #backoff: { baseDelayMs: number, maxDelayMs: number }
  readonly #timeoutMs: number

  constructor (options: ComputeClientOptions) {
    if (typeof options?.baseUrl !== 'string' || options.baseUrl === '') throw new TypeError('ComputeClient: baseUrl is required')
    if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('ComputeClient: apiKey is required')
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#apiKey = options.apiKey
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#retries = options.retries ?? 3
    this.#backoff = { baseDelayMs: options.retryDelayMs ?? 200, maxDelayMs: options.maxRetryDelayMs ?? 10_000 }
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  /**
   * Starts a run. The Idempotency-Key (generated when not given) is sent on every attempt, so a
   * retried trigger never makes a second run.
   */
  triggerRun (request: TriggerRunRequest, options: CallOptions & { idempotencyKey?: string } = {}): Promise<TriggeredRun> {
    const { idempotencyKey = randomUUID(), ...call } = options
    return this.#request({ method: 'POST', path: '/v1/runs', body: request, headers: { 'idempotency-key': idempotencyKey }, retry: 'always' }, call)
  }

  getRun (runId: string, options: CallOptions & { resolveData?: 'all' | 'none' } = {}): Promise<RunView> {
    const { resolveData, ...call } = options
    const query = resolveData === undefined ? '' : `?resolveData=${resolveData}`
    return this.#request({ method: 'GET', path: `/v1/runs/${encodeURIComponent(runId)}${query}`, retry: 'always' }, call)
  }

  cancelRun (runId: string, options: CallOptions = {}): Promise<RunView> {
    return this.#request({ method: 'POST', path: `/v1/runs/${encodeURIComponent(runId)}/cancel`, retry: 'throttled' }, options)
  }

  /** Delivers `payload` to the hook waiting on `token`, as the SDK's resumeHook does. */
  resumeHook (token: string, payload: unknown, options: CallOptions = {}): Promise<ResumedHook> {
    return this.#request({ method: 'POST', path: '/v1/runs/resume', body: { token, payload }, retry: 'throttled' }, options)
  }

  createDeployment (request: CreateDeploymentRequest, options: CallOptions = {}): Promise<Deployment> {
    const files = request.files === undefined
      ? undefined
      : Object.fromEntries(Object.entries(request.files).map(([name, content]) => [name, toBase64(content)]))
    return this.#request({ method: 'POST', path: '/v1/deployments', body: { ...request, files }, retry: 'throttled' }, options)
  }

  activateDeployment (deploymentId: string, options: CallOptions = {}): Promise<Deployment> {
    return this.#request({ method: 'POST', path: `/v1/deployments/${encodeURIComponent(deploymentId)}/activate`, retry: 'always' }, options)
  }

  getDeployment (deploymentId: string, options: CallOptions = {}): Promise<Deployment> {
    return this.#request({ method: 'GET', path: `/v1/deployments/${encodeURIComponent(deploymentId)}`, retry: 'always' }, options)
  }

  /** Throws NoActiveDeploymentComputeClientError when none is active. */
  getActiveDeployment (options: CallOptions = {}): Promise<Deployment> {
    return this.#request({ method: 'GET', path: '/v1/deployments/active', retry: 'always' }, options)
  }

  /** The worker's health; a 503 (a dependency down) is answered with its status, not thrown. */
  health (options: CallOptions = {}): Promise<HealthStatus> {
    return this.#request({ method: 'GET', path: '/v1/health', retry: 'throttled', acceptStatuses: [503] }, options)
  }

  async #request<T> (request: Request, options: CallOptions): Promise<T> {
    const correlationId = options.correlationId ?? randomUUID()
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(request, correlationId, options.signal)
      if (!('error' in outcome)) return outcome.body as T
      const { error } = outcome
      const retryable = error.status === 429 || (request.retry === 'always' && (error.status === 503 || error.status === 0))
      if (!retryable || attempt > this.#retries || options.signal?.aborted === true) throw error
      const retryAfter = 'retryAfter' in error ? error.retryAfter as number | undefined : undefined
      await sleep(backoffDelay(attempt, this.#backoff, retryAfter), options.signal)
    }
  }

  async #attempt (request: Request, correlationId: string, signal?: AbortSignal): Promise<{ body: unknown } | { error: ComputeClientError }> {
    const url = `${this.#baseUrl}${request.path}`
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json',
      [CORRELATION_HEADER]: correlationId,
      ...request.headers
    }
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const deadline = AbortSignal.timeout(this.#timeoutMs)
    let response: Response
    let text: string
    try {
      response = await this.#fetch(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: signal === undefined ? deadline : AbortSignal.any([deadline, signal])
      })
      text = await response.text()
    } catch (cause) {
      if (signal?.aborted === true) throw cause
      const reason = deadline.aborted ? `no answer within ${this.#timeoutMs} ms` : (cause as Error).message
      return { error: computeClientErrorFor(`${request.method} ${request.path} failed: ${reason}`, { status: 0, code: 'network_error', correlationId, cause }) }
    }
    const body = parseJson(text)
    if (response.ok || request.acceptStatuses?.includes(response.status) === true) return { body }
    const { code, message, correlationId: bodyCorrelationId, ...details } = (body ?? {}) as Record<string, unknown>
    return {
      error: computeClientErrorFor(typeof message === 'string' ? message : `${request.method} ${request.path} answered ${response.status}`, {
        status: response.status,
        code: typeof code === 'string' ? code : `http_${response.status}`,
        correlationId: response.headers.get(CORRELATION_HEADER) ?? (typeof bodyCorrelationId === 'string' ? bodyCorrelationId : correlationId),
        retryAfter: parseRetryAfter(response.headers.get('retry-after')),
        details
      })
    }
  }
}

function parseJson (text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return { message: text.slice(0, 500) }
  }
}
