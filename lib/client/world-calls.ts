import { WorkflowWorldError } from '@workflow/errors'
import { RUN_ID_HEADER } from '../headers.js'
import { decodeCbor, decodeTaggedJson, encodeBody, encodingForContentType, mediaTypeOf, type WireEncoding } from '../wire/codec.js'
import { errorFromWire, timeoutError, transportError, type WorldErrorBody } from '../wire/world-errors.js'
import { REPEAT_NEVER, Transport, type Failure, type Query, type RepeatPolicy, type TransportCall } from './transport.js'

export interface WorldCallsOptions {
  /** The worker's URL, e.g. `https://worker.internal:8080` (a path prefix is kept). */
  baseUrl: string
  /** A key with scope `world:proxy`. */
  apiKey: string
  /** Replaces the global `fetch` (tests, proxies, custom agents). */
  fetch?: typeof fetch
  /** Body encoding: CBOR (default; native bytes and dates) or tagged JSON. */
  encoding?: WireEncoding
  /** Deadline of an ordinary call; live reads and event lists have none. Default 60 s. */
  timeoutMs?: number
  /** Extra attempts of a safe call after no answer or a 502/503/504. Default 2. */
  retries?: number
  /** First retry delay (doubled each time, jittered). Default 100 ms. */
  retryDelayMs?: number
  /** Longest wait between attempts, Retry-After included. Default 5 s. */
  maxRetryDelayMs?: number
}

export interface WorldCall<T> {
  method: 'GET' | 'POST'
  path: string
  query?: Query
  /** A value encoded with the transport's encoding. */
  body?: unknown
  /** Raw bytes (stream writes), sent as they are. */
  bytes?: Uint8Array
  headers?: Record<string, string>
  /**
   * Whether the call may be sent again after a failure that leaves its fate unknown. Reads and
   * the World's idempotent writes are; `step_started`, `step_retrying`, `hook_received` and
   * stream appends are not (a repeat increments an attempt, records a payload twice, …).
   */
  safe: boolean
  /** false: no deadline. */
  deadline?: boolean
  /** Turns a decoded tagged-JSON answer into the World's types (dates); CBOR needs none. */
  revive?: (value: unknown) => T
  /** Sent as x-workflow-run-id, so the worker's audit rows name the run. */
  runId?: string
  signal?: AbortSignal
}

/**
 * A 429 is never waited out here: the runtime gets the ThrottleError with its retryAfter and
 * schedules the retry itself (a redelivery), rather than holding a queue handler.
 */
const SAFE: RepeatPolicy = { unanswered: true, throttled: false }

function worldErrorOf (failure: Failure, timeoutMs: number): Error {
  if (failure.status !== 0) {
    return errorFromWire(failure.status, failure.body as WorldErrorBody, failure.headers?.get('retry-after') ?? null, failure.url)
  }
  return failure.timedOut ? timeoutError(failure.url, timeoutMs, failure.cause) : transportError(failure.cause, failure.url)
}

/**
 * The World's calls over the internal lane, on the clients' transport: bodies in the lane's
 * encoding, answers decoded (and revived from tagged JSON), failures as the World errors the
 * runtime branches on.
 */
export class WorldCalls {
  readonly encoding: WireEncoding
  readonly #transport: Transport

  constructor (options: WorldCallsOptions) {
    const timeoutMs = options?.timeoutMs ?? 60_000
    this.encoding = options?.encoding ?? 'cbor'
    this.#transport = new Transport({
      baseUrl: options?.baseUrl,
      apiKey: options?.apiKey,
      fetch: options?.fetch,
      timeoutMs,
      retries: options?.retries ?? 2,
      retryDelayMs: options?.retryDelayMs ?? 100,
      maxRetryDelayMs: options?.maxRetryDelayMs ?? 5_000,
      errorOf: (failure) => worldErrorOf(failure, timeoutMs)
    }, 'createRemoteWorld')
  }

  #request (call: WorldCall<unknown>, live: boolean): TransportCall {
    const headers: Record<string, string> = {
      accept: mediaTypeOf(this.encoding),
      // A unique header defeats framework fetch memoization (world-vercel does the same, vercel/workflow#618).
      'x-request-time': String(Date.now()),
      ...call.headers
    }
    if (call.runId !== undefined) headers[RUN_ID_HEADER] = call.runId
    if (call.bytes !== undefined) headers['content-type'] ??= 'application/octet-stream'
    else if (call.body !== undefined) headers['content-type'] = mediaTypeOf(this.encoding)
    return {
      method: call.method,
      path: call.path,
      query: call.query,
      headers,
      body: call.bytes ?? (call.body === undefined ? undefined : encodeBody(call.body, this.encoding)),
      repeat: call.safe ? SAFE : REPEAT_NEVER,
      deadline: call.deadline === false ? 'none' : live ? 'headers' : 'answer',
      signal: call.signal
    }
  }

  /** Sends a call and decodes its answer. */
  async call<T> (call: WorldCall<T>): Promise<T> {
    const answer = await this.#transport.request(this.#request(call, false))
    if (answer.status === 204) return undefined as T
    const encoding = encodingForContentType(answer.headers.get('content-type'))
    try {
      if (encoding === 'cbor') return decodeCbor(answer.bytes) as T
      const value = decodeTaggedJson(new TextDecoder().decode(answer.bytes))
      return call.revive !== undefined ? call.revive(value) : value as T
    } catch (error) {
      if (WorkflowWorldError.is(error)) throw error
      // The prefix is what @workflow/core's classify-error treats as a World contract fault.
      throw new WorkflowWorldError(`Failed to parse response body for ${call.method} ${call.path}: ${(error as Error).message}`, {
        code: 'PARSE_ERROR',
        cause: error
      })
    }
  }

  /** Opens a call whose answer is a live body (a stream read). */
  async open (call: WorldCall<unknown>): Promise<Response> {
    return await this.#transport.open(this.#request(call, true))
  }

  /** Retry number `attempt`'s delay, for a reader that reconnects. */
  backoff (attempt: number): number {
    return this.#transport.backoff(attempt)
  }
}
