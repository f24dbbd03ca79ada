import { randomUUID } from 'node:crypto'
import { bytesToBase64 } from '../bytes.js'
import { CORRELATION_HEADER, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from '../headers.js'
import { addTraceHeaders } from './trace-headers.js'
import type { CreateDeploymentBody, DeploymentList, DeploymentView } from '../schemas/deployments.js'
import type { HealthReport, Liveness, Readiness } from '../schemas/health.js'
import type { AuditPage } from '../schemas/audit.js'
import type { EventList, HookList, ResumeResponse, Run, RunList, RunStatus, RunSummary, TriggerRequest } from '../schemas/runs.js'
import { checkedEndpoint, endpointUrl, type Query } from './endpoint.js'
import { computeClientErrorFor, type ComputeClientError } from './errors.js'
import { readRunStream, type RunStreamValue } from './run-stream.js'
import { backoffDelay, parseRetryAfter, sleep } from './retry.js'

// The shapes are the routes' own response schemas (lib/schemas), so the client cannot drift from them.
export type { Liveness, Readiness, Run, RunList, RunStatus, RunSummary, TriggerRequest, RunStreamValue }
/** `GET /v1/health` when every dependency is up. */
export type Health = HealthReport
export type Deployment = DeploymentView
export type ResumedHook = ResumeResponse
export type RunEventList = EventList
export type RunHookList = HookList
export type AuditList = AuditPage

/** A trigger's answer; `replayed` when it is the stored answer of an earlier request with the same key. */
export type TriggeredRun = RunSummary & { replayed: boolean }

export interface ListRunsQuery {
  status?: RunStatus
  /** A full workflow id, or an export name. */
  workflowName?: string
  deploymentId?: string
  /** 1 to 100; default 20. */
  limit?: number
  /** The previous page's `cursor`. */
  cursor?: string
}

export interface PageQuery {
  limit?: number
  cursor?: string
}

export interface AuditQuery extends PageQuery {
  correlationId?: string
  /** A key's id (`key_…`). */
  actorKeyId?: string
  /** `runs.trigger`, `webhook.receive`, … */
  action?: string
}

export interface CreateDeploymentRequest extends Omit<CreateDeploymentBody, 'files'> {
  /** Bundles by relative path (`flow.js`, `step.js`, `webhook.js`): bytes, or base64 strings. */
  files?: Record<string, string | Uint8Array>
}

export interface ComputeClientOptions {
  /** The worker's URL (a path prefix, for a worker mounted under one, is kept). */
  baseUrl: string
  apiKey: string
  /** Replaces the global `fetch`. */
  fetch?: typeof fetch
  /** Extra attempts after 429, 502/503/504 or a network failure, where a repeat is safe. Default 3. */
  retries?: number
  /** First backoff delay, doubled per attempt with jitter. Default 200 ms. */
  retryDelayMs?: number
  /** Longest wait between attempts, Retry-After included. Default 10 s. */
  maxRetryDelayMs?: number
  /** Deadline of one attempt (for a run stream: until its headers). Default 30 s. */
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

interface Call {
  method: 'GET' | 'POST'
  path: string
  query?: Query
  body?: unknown
  headers?: Record<string, string>
  retry: RetryPolicy
  /** Answer with the open response (a live body) instead of its parsed JSON. */
  stream?: boolean
}

interface Answer<T> {
  body: T
  headers: Headers
}

/** No answer, or a proxy's word that the worker gave none: a repeat is the only way to know. */
const UNANSWERED = new Set([0, 502, 503, 504])

const segment = encodeURIComponent

/** A typed client of the worker's public lane (contract sections 4, 5 and 8): one method per route. */
export class ComputeClient {
  readonly #baseUrl: string
  readonly #apiKey: string
  readonly #fetch: typeof fetch
  readonly #retries: number
  readonly #backoff: { baseDelayMs: number, maxDelayMs: number }
  readonly #timeoutMs: number

  constructor (options: ComputeClientOptions) {
    const { baseUrl, apiKey } = checkedEndpoint(options, 'ComputeClient')
    this.#baseUrl = baseUrl
    this.#apiKey = apiKey
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#retries = options.retries ?? 3
    this.#backoff = { baseDelayMs: options.retryDelayMs ?? 200, maxDelayMs: options.maxRetryDelayMs ?? 10_000 }
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  /**
   * `POST /v1/runs`. The Idempotency-Key (generated when not given) is sent on every attempt, so a
   * retried trigger never makes a second run: pass your own to make retries of your own safe too.
   */
  async triggerRun (request: TriggerRequest, options: CallOptions & { idempotencyKey?: string } = {}): Promise<TriggeredRun> {
    const { idempotencyKey = randomUUID(), ...call } = options
    const { body, headers } = await this.#call<RunSummary>({
      method: 'POST', path: '/v1/runs', body: request, headers: { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey }, retry: 'always'
    }, call)
    return { ...body, replayed: headers.get(IDEMPOTENT_REPLAYED_HEADER) === 'true' }
  }

  /** `GET /v1/runs/:id`: `output` decoded to JSON once completed (not with resolveData: 'none'). */
  async getRun (runId: string, options: CallOptions & { resolveData?: 'all' | 'none' } = {}): Promise<Run> {
    const { resolveData, ...call } = options
    return await this.#read({ method: 'GET', path: `/v1/runs/${segment(runId)}`, query: { resolveData }, retry: 'always' }, call)
  }

  /** `GET /v1/runs`: newest first; follow `cursor` while `hasMore`. */
  async listRuns (query: ListRunsQuery = {}, options: CallOptions = {}): Promise<RunList> {
    return await this.#read({ method: 'GET', path: '/v1/runs', query: { ...query }, retry: 'always' }, options)
  }

  /** `GET /v1/runs/:id/events`: the event log, oldest first, without payloads or tokens. */
  async listRunEvents (runId: string, query: PageQuery = {}, options: CallOptions = {}): Promise<RunEventList> {
    return await this.#read({ method: 'GET', path: `/v1/runs/${segment(runId)}/events`, query: { ...query }, retry: 'always' }, options)
  }

  /**
   * `GET /v1/runs/:id/stream`: the run's default output stream, live, one decoded value at a time
   * with its chunk index, until the writer closes it. A cut connection is resumed where it stopped.
   * `startIndex` may be negative (that many chunks before the current end).
   */
  streamRun (runId: string, options: CallOptions & { startIndex?: number } = {}): AsyncGenerator<RunStreamValue> {
    const { startIndex = 0, ...call } = options
    const correlationId = call.correlationId ?? randomUUID()
    return readRunStream({
      startIndex,
      signal: call.signal,
      open: async (from) => (await this.#call<Response>({
        method: 'GET',
        path: `/v1/runs/${segment(runId)}/stream`,
        query: { startIndex: from },
        headers: { accept: 'application/x-ndjson' },
        retry: 'always',
        stream: true
      }, { ...call, correlationId })).body,
      unanswered: (message, cause) => computeClientErrorFor(message, { status: 0, code: 'network_error', correlationId, cause }),
      failed: (code, message) => computeClientErrorFor(message, { status: 500, code, correlationId }),
      backoff: (attempt) => backoffDelay(attempt, this.#backoff)
    })
  }

  /** `POST /v1/runs/:id/cancel`; ConflictComputeClientError `run_already_finished` once it ended. */
  async cancelRun (runId: string, options: CallOptions = {}): Promise<Run> {
    return await this.#read({ method: 'POST', path: `/v1/runs/${segment(runId)}/cancel`, retry: 'throttled' }, options)
  }

  /** `POST /v1/runs/resume`: delivers `payload` to the hook waiting on `token`, as the SDK's resumeHook does. */
  async resumeHook (token: string, payload: unknown, options: CallOptions = {}): Promise<ResumedHook> {
    return await this.#read({ method: 'POST', path: '/v1/runs/resume', body: { token, payload }, retry: 'throttled' }, options)
  }

  /** `GET /v1/runs/:id/hooks`: the hooks the run waits on, oldest first, without their tokens. */
  async listRunHooks (runId: string, query: PageQuery = {}, options: CallOptions = {}): Promise<RunHookList> {
    return await this.#read({ method: 'GET', path: `/v1/runs/${segment(runId)}/hooks`, query: { ...query }, retry: 'always' }, options)
  }

  /** `POST /v1/runs/:id/hooks/:hookId/resume`: `resumeHook` for a hook named by its run and id instead of its token. */
  async resumeRunHook (runId: string, hookId: string, payload: unknown, options: CallOptions = {}): Promise<ResumedHook> {
    return await this.#read({ method: 'POST', path: `/v1/runs/${segment(runId)}/hooks/${segment(hookId)}/resume`, body: { payload }, retry: 'throttled' }, options)
  }

  /** `GET /v1/audit` (`audit:read`): newest first, by correlation id, key and action. */
  async listAudit (query: AuditQuery = {}, options: CallOptions = {}): Promise<AuditList> {
    return await this.#read({ method: 'GET', path: '/v1/audit', query: { ...query }, retry: 'always' }, options)
  }

  /** `POST /v1/deployments`: a build's manifest and, when this worker runs the code, its bundles. */
  async createDeployment (request: CreateDeploymentRequest, options: CallOptions = {}): Promise<Deployment> {
    const files = request.files === undefined
      ? undefined
      : Object.fromEntries(Object.entries(request.files).map(([name, content]) => [name, typeof content === 'string' ? content : bytesToBase64(content)]))
    return await this.#read({ method: 'POST', path: '/v1/deployments', body: { ...request, files }, retry: 'throttled' }, options)
  }

  /** `POST /v1/deployments/:id/activate`: triggers without a deploymentId use it from now on. */
  async activateDeployment (deploymentId: string, options: CallOptions = {}): Promise<Deployment> {
    return await this.#read({ method: 'POST', path: `/v1/deployments/${segment(deploymentId)}/activate`, retry: 'always' }, options)
  }

  async getDeployment (deploymentId: string, options: CallOptions = {}): Promise<Deployment> {
    return await this.#read({ method: 'GET', path: `/v1/deployments/${segment(deploymentId)}`, retry: 'always' }, options)
  }

  /** `GET /v1/deployments/active`; NoActiveDeploymentComputeClientError when none is. */
  async getActiveDeployment (options: CallOptions = {}): Promise<Deployment> {
    return await this.#read({ method: 'GET', path: '/v1/deployments/active', retry: 'always' }, options)
  }

  /** `GET /v1/deployments`: newest first; follow `cursor` while `hasMore`. */
  async listDeployments (query: PageQuery = {}, options: CallOptions = {}): Promise<DeploymentList> {
    return await this.#read({ method: 'GET', path: '/v1/deployments', query: { ...query }, retry: 'always' }, options)
  }

  /*
   * The probes need no key (one is sent anyway) and report the present: a 503 `not_ready` is
   * their answer, so it is thrown at once (ServerComputeClientError, contract section 8, the
   * probe's report in `details`) rather than retried.
   */

  /** `GET /v1/health`: the World and the control-plane database; 503 `not_ready` when either is down (`details.world`, `details.database`). */
  async health (options: CallOptions = {}): Promise<Health> {
    return await this.#read({ method: 'GET', path: '/v1/health', retry: 'throttled' }, options)
  }

  /** `GET /v1/health/live`: the process serves requests (calls no dependency). */
  async liveness (options: CallOptions = {}): Promise<Liveness> {
    return await this.#read({ method: 'GET', path: '/v1/health/live', retry: 'throttled' }, options)
  }

  /** `GET /v1/health/ready`: World reachable, database writable, executor up; 503 `not_ready` otherwise (`details.checks`). */
  async readiness (options: CallOptions = {}): Promise<Readiness> {
    return await this.#read({ method: 'GET', path: '/v1/health/ready', retry: 'throttled' }, options)
  }

  async #read<T> (call: Call, options: CallOptions): Promise<T> {
    return (await this.#call<T>(call, options)).body
  }

  async #call<T> (call: Call, options: CallOptions): Promise<Answer<T>> {
    const correlationId = options.correlationId ?? randomUUID()
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(call, correlationId, options.signal)
      if (!('error' in outcome)) return outcome as Answer<T>
      const { error } = outcome
      const retryable = error.status === 429 || (call.retry === 'always' && UNANSWERED.has(error.status))
      if (!retryable || attempt > this.#retries || options.signal?.aborted === true) throw error
      const retryAfter = 'retryAfter' in error ? error.retryAfter as number | undefined : undefined
      await sleep(backoffDelay(attempt, this.#backoff, retryAfter), options.signal)
    }
  }

  async #attempt (call: Call, correlationId: string, signal?: AbortSignal): Promise<Answer<unknown> | { error: ComputeClientError }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json',
      [CORRELATION_HEADER]: correlationId,
      ...call.headers
    }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    addTraceHeaders(headers)
    // A live body has no deadline of its own: only its headers must come within timeoutMs.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
    let response: Response
    let text = ''
    try {
      response = await this.#fetch(endpointUrl(this.#baseUrl, call.path, call.query), {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, signal])
      })
      if (!(call.stream === true && response.ok)) text = await response.text()
    } catch (cause) {
      if (signal?.aborted === true) throw cause
      const reason = deadline.signal.aborted ? (deadline.signal.reason as Error).message : (cause as Error).message
      return { error: computeClientErrorFor(`${call.method} ${call.path} failed: ${reason}`, { status: 0, code: 'network_error', correlationId, cause }) }
    } finally {
      clearTimeout(timer)
    }
    if (call.stream === true && response.ok) return { body: response, headers: response.headers }
    const body = parseJson(text)
    if (response.ok) return { body, headers: response.headers }
    const { code, message, correlationId: bodyCorrelationId, ...details } = (body ?? {}) as Record<string, unknown>
    return {
      error: computeClientErrorFor(typeof message === 'string' ? message : `${call.method} ${call.path} answered ${response.status}`, {
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
