import { WorkflowWorldError } from '@workflow/errors'
import {
  decodeCbor,
  decodeTaggedJson,
  encodeBody,
  encodingForContentType,
  mediaTypeOf,
  type WireEncoding
} from '../world-proxy/codec.js'
import { errorFromWire, timeoutError, transportError, type WorldErrorBody } from '../world-proxy/errors.js'
import { RUN_ID_HEADER } from '../headers.js'
import { checkedEndpoint, endpointUrl, type Query } from './endpoint.js'
import { addTraceHeaders } from './trace-headers.js'
import { backoffDelay, sleep } from './retry.js'

export interface WorldTransportOptions {
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
  /** Extra attempts of a safe call after a network failure or a 503. Default 2. */
  retries?: number
  /** First retry delay (doubled each time, jittered). Default 100 ms. */
  retryDelayMs?: number
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

/** HTTP of the internal lane: auth, encoding, deadlines, retries of safe calls, error mapping. */
export class WorldTransport {
  readonly encoding: WireEncoding
  readonly #baseUrl: string
  readonly #apiKey: string
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #retryDelayMs: number

  constructor (options: WorldTransportOptions) {
    const { baseUrl, apiKey } = checkedEndpoint(options, 'createRemoteWorld')
    this.#baseUrl = baseUrl
    this.#apiKey = apiKey
    this.#fetch = options.fetch ?? globalThis.fetch
    this.encoding = options.encoding ?? 'cbor'
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#retries = options.retries ?? 2
    this.#retryDelayMs = options.retryDelayMs ?? 100
  }

  url (path: string, query?: Query): string {
    return endpointUrl(this.#baseUrl, path, query)
  }

  #headers (call: WorldCall<unknown>): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: mediaTypeOf(this.encoding),
      // A unique header defeats framework fetch memoization (world-vercel does the same, vercel/workflow#618).
      'x-request-time': String(Date.now()),
      ...call.headers
    }
    if (call.runId !== undefined) headers[RUN_ID_HEADER] = call.runId
    addTraceHeaders(headers)
    if (call.bytes !== undefined) headers['content-type'] ??= 'application/octet-stream'
    else if (call.body !== undefined) headers['content-type'] = mediaTypeOf(this.encoding)
    return headers
  }

  /** Sends one request; answers non-2xx with the World error it stands for. */
  async send (call: WorldCall<unknown>): Promise<Response> {
    const url = this.url(call.path, call.query)
    const deadline = call.deadline === false ? undefined : AbortSignal.timeout(this.#timeoutMs)
    const signal = deadline !== undefined && call.signal !== undefined
      ? AbortSignal.any([deadline, call.signal])
      : deadline ?? call.signal
    const body = (call.bytes ?? (call.body === undefined ? undefined : encodeBody(call.body, this.encoding))) as BodyInit | undefined
    let response: Response
    try {
      response = await this.#fetch(url, { method: call.method, headers: this.#headers(call), body, signal })
    } catch (error) {
      if (deadline?.aborted === true) throw timeoutError(url, this.#timeoutMs, error)
      if (call.signal?.aborted === true) throw error
      throw transportError(error, url)
    }
    if (!response.ok) throw await errorOfResponse(response, url)
    return response
  }

  /** Sends a call (again, when it is safe and failed for want of an answer) and decodes the answer. */
  async call<T> (call: WorldCall<T>): Promise<T> {
    const attempts = call.safe ? this.#retries + 1 : 1
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.send(call)
        return await this.#decode(response, call)
      } catch (error) {
        if (attempt >= attempts || !isRetryableFailure(error)) throw error
        await sleep(backoffDelay(attempt, { baseDelayMs: this.#retryDelayMs, maxDelayMs: 5_000 }), call.signal)
      }
    }
  }

  async #decode<T> (response: Response, call: WorldCall<T>): Promise<T> {
    if (response.status === 204) return undefined as T
    const bytes = new Uint8Array(await response.arrayBuffer())
    const encoding = encodingForContentType(response.headers.get('content-type'))
    try {
      if (encoding === 'cbor') return decodeCbor(bytes) as T
      const value = decodeTaggedJson(new TextDecoder().decode(bytes))
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
}

function isRetryableFailure (error: unknown): boolean {
  if (!WorkflowWorldError.is(error)) return false
  const failure = error as WorkflowWorldError
  return failure.code === 'TRANSPORT' || failure.status === 503
}

async function errorOfResponse (response: Response, url: string): Promise<Error> {
  const text = await response.text().catch(() => '')
  let body: WorldErrorBody = {}
  try {
    // Errors are always JSON, whatever the request accepted.
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object') body = parsed as WorldErrorBody
  } catch {
    body = { message: text.slice(0, 500) }
  }
  return errorFromWire(response.status, body, response.headers.get('retry-after'), url)
}
