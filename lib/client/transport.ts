import { parseRetryAfter } from '../wire/retry-after.js'
import { addTraceHeaders } from './trace-headers.js'

export type Query = Record<string, string | number | undefined>

/**
 * When a call is sent again after a failed attempt. `unanswered`: no answer came (a network
 * failure, the deadline) or a proxy said the worker gave none (502, 503, 504); only for calls a
 * repeat cannot make act twice. `throttled`: a 429, which the worker answers before acting.
 */
export interface RepeatPolicy {
  unanswered: boolean
  throttled: boolean
}

export const REPEAT_NEVER: RepeatPolicy = { unanswered: false, throttled: false }

export interface TransportCall {
  method: 'GET' | 'POST'
  path: string
  query?: Query
  headers?: Record<string, string>
  body?: string | Uint8Array
  repeat: RepeatPolicy
  /**
   * What must come within `timeoutMs`: `answer` (the default) the whole answer; `headers` only
   * its headers, for a live body read as it comes; `none`, for answers that may take long.
   */
  deadline?: 'answer' | 'headers' | 'none'
  signal?: AbortSignal
}

/** A failed attempt: status 0 when no answer came. */
export interface Failure {
  call: TransportCall
  url: string
  status: number
  /** The error body: its JSON, else `{ message: <its first 500 characters> }`. */
  body: Record<string, unknown>
  headers: Headers | undefined
  /** From Retry-After, in seconds. */
  retryAfter: number | undefined
  /** Why no answer came. */
  cause?: unknown
  /** No answer within `timeoutMs`. */
  timedOut: boolean
}

/** A buffered answer (2xx). */
export interface Answer {
  status: number
  headers: Headers
  bytes: Uint8Array
}

export interface TransportOptions {
  /** The worker's URL (a path prefix, for a worker mounted under one, is kept). */
  baseUrl: string
  apiKey: string
  /** Replaces the global `fetch` (tests, proxies, custom agents). */
  fetch?: typeof fetch
  /** The deadline of one attempt (see `TransportCall.deadline`). */
  timeoutMs: number
  /** Extra attempts a call's repeat policy allows. */
  retries: number
  /** First backoff delay, doubled per attempt with jitter. */
  retryDelayMs: number
  /** Longest wait between attempts, Retry-After included. */
  maxRetryDelayMs: number
  /** The error a call fails with, once no attempt is left. */
  errorOf: (failure: Failure) => Error
}

/** A worker's URL and key as both clients take them, checked; the URL loses trailing slashes, keeps a path prefix. */
export function checkedEndpoint (options: { baseUrl?: unknown, apiKey?: unknown } | undefined, who: string): { baseUrl: string, apiKey: string } {
  if (typeof options?.baseUrl !== 'string' || options.baseUrl === '') throw new TypeError(`${who}: baseUrl is required`)
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError(`${who}: apiKey is required`)
  return { baseUrl: options.baseUrl.replace(/\/+$/, ''), apiKey: options.apiKey }
}

/** `baseUrl` + `path` + the query's defined members. */
export function endpointUrl (baseUrl: string, path: string, query: Query = {}): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value))
  const text = search.toString()
  return `${baseUrl}${path}${text === '' ? '' : `?${text}`}`
}

export interface BackoffOptions {
  /** First delay; each retry doubles it (with full jitter). */
  baseDelayMs: number
  /** No delay exceeds this, whatever Retry-After says. */
  maxDelayMs: number
}

/** The delay before retry number `attempt` (1-based): Retry-After when given, else jittered exponential. */
export function backoffDelay (attempt: number, options: BackoffOptions, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    return Math.min(retryAfterSeconds * 1000, options.maxDelayMs)
  }
  const ceiling = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.maxDelayMs)
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2)
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    function onAbort (): void {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** No answer, or a proxy's word that the worker gave none: a repeat is the only way to know. */
const UNANSWERED = new Set([0, 502, 503, 504])

function mayRepeat (status: number, policy: RepeatPolicy): boolean {
  return status === 429 ? policy.throttled : UNANSWERED.has(status) && policy.unanswered
}

function errorBodyOf (text: string): Record<string, unknown> {
  try {
    // Errors are JSON, whatever the request accepted.
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>
  } catch {}
  return text === '' ? {} : { message: text.slice(0, 500) }
}

type Outcome<T> = { answer: T } | { failure: Failure }

/**
 * HTTP to the worker for both clients: the bearer key, a deadline per attempt, and one retry
 * loop (the call's repeat policy, jittered backoff, Retry-After). A failure the policy does not
 * repeat, or the last one, becomes the client's error (`errorOf`).
 */
export class Transport {
  readonly #baseUrl: string
  readonly #apiKey: string
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #backoff: BackoffOptions
  readonly #errorOf: (failure: Failure) => Error

  constructor (options: TransportOptions, who: string) {
    const { baseUrl, apiKey } = checkedEndpoint(options, who)
    this.#baseUrl = baseUrl
    this.#apiKey = apiKey
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#timeoutMs = options.timeoutMs
    this.#retries = options.retries
    this.#backoff = { baseDelayMs: options.retryDelayMs, maxDelayMs: options.maxRetryDelayMs }
    this.#errorOf = options.errorOf
  }

  get timeoutMs (): number {
    return this.#timeoutMs
  }

  /** Retry number `attempt`'s delay under this transport's backoff (for reconnecting readers). */
  backoff (attempt: number): number {
    return backoffDelay(attempt, this.#backoff)
  }

  /** A call whose 2xx answer is read whole. */
  async request (call: TransportCall): Promise<Answer> {
    return await this.#repeat(call, async (response) => ({
      status: response.status,
      headers: response.headers,
      bytes: new Uint8Array(await response.arrayBuffer())
    }))
  }

  /** A call whose 2xx answer is a live body, handed over unread (`deadline` should not be `answer`). */
  async open (call: TransportCall): Promise<Response> {
    return await this.#repeat(call, async (response) => response)
  }

  async #repeat<T> (call: TransportCall, take: (response: Response) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(call, take)
      if ('answer' in outcome) return outcome.answer
      const { failure } = outcome
      if (attempt > this.#retries || !mayRepeat(failure.status, call.repeat) || call.signal?.aborted === true) throw this.#errorOf(failure)
      await sleep(backoffDelay(attempt, this.#backoff, failure.retryAfter), call.signal)
    }
  }

  async #attempt<T> (call: TransportCall, take: (response: Response) => Promise<T>): Promise<Outcome<T>> {
    const url = endpointUrl(this.#baseUrl, call.path, call.query)
    const deadline = call.deadline ?? 'answer'
    const timer = deadline === 'none' ? undefined : new AbortController()
    const timeout = timer === undefined
      ? undefined
      : setTimeout(() => timer.abort(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
    const signals = [timer?.signal, call.signal].filter((signal) => signal !== undefined)
    try {
      const response = await this.#fetch(url, {
        method: call.method,
        headers: addTraceHeaders({ authorization: `Bearer ${this.#apiKey}`, ...call.headers }),
        body: call.body as BodyInit | undefined,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0]
      })
      if (response.ok) return { answer: await take(response) }
      const text = await response.text().catch(() => '')
      return {
        failure: {
          call,
          url,
          status: response.status,
          body: errorBodyOf(text),
          headers: response.headers,
          retryAfter: parseRetryAfter(response.headers.get('retry-after')),
          timedOut: false
        }
      }
    } catch (cause) {
      if (call.signal?.aborted === true) throw cause
      return { failure: { call, url, status: 0, body: {}, headers: undefined, retryAfter: undefined, cause, timedOut: timer?.signal.aborted === true } }
    } finally {
      // A live body (`headers`) outlives the attempt; only the wait for its headers was bounded.
      clearTimeout(timeout)
    }
  }
}
