/**
 * The MessagePort protocol between the main thread (which owns the World and the queue) and a
 * deployment's thread (which runs that deployment's bundles). Both sides import this module; it
 * must stay free of heavy imports, since every deployment thread loads it.
 */
import type { WireSpan } from '../observability/thread-spans.js'

export type DeliveryKind = 'workflow' | 'step'

/** What the SDK's queue handler is given besides the message (`createQueueHandler`'s `meta`). */
export interface DeliveryMeta {
  attempt: number
  queueName: string
  messageId: string
  requestId?: string
}

/** The SDK handler's answer: nothing (done) or "deliver again after this many seconds". */
export type DeliveryResult = { timeoutSeconds: number } | undefined

/** An HTTP request or response with its body as bytes (structured clone keeps them). */
export interface WireRequest {
  url: string
  method: string
  headers: Array<[string, string]>
  body: ArrayBuffer | null
}

export interface WireResponse {
  status: number
  statusText: string
  headers: Array<[string, string]>
  body: ArrayBuffer | null
}

/** An Error across the boundary: structured clone drops the names the runtime branches on. */
export interface WireError {
  name: string
  message: string
  stack?: string
  props: Record<string, unknown>
}

/** Sent to a new thread as `workerData`. */
export interface ThreadData {
  deploymentId: string
  /** Absolute path of the deployment's artifact folder. */
  dir: string
  /** World members present on the main thread's World (optional ones differ between Worlds). */
  worldMethods: string[]
  specVersion: number | undefined
  streamFlushIntervalMs: number | undefined
  /** Where bare `workflow/…` imports of ESM builds resolve from: the worker's own package. */
  resolveFallbackUrl: string
  /** The worker traces: the thread sets up its tracer provider and sends its spans back. */
  tracing: boolean
}

/** A trace context in its propagated form (traceparent, tracestate, correlation id); absent when not tracing. */
export type TraceCarrier = Record<string, string>

export type MainToThread =
  | { type: 'deliver', id: number, kind: DeliveryKind, message: unknown, meta: DeliveryMeta, trace?: TraceCarrier }
  | { type: 'webhook', id: number, request: WireRequest, trace?: TraceCarrier }
  | { type: 'ping', id: number }
  | { type: 'world-result', id: number, ok: true, value: unknown }
  | { type: 'world-result', id: number, ok: false, error: WireError }

export type ThreadToMain =
  | { type: 'ready' }
  | { type: 'pong', id: number, heapUsedBytes: number }
  | { type: 'load-failed', error: WireError }
  | { type: 'world-call', id: number, method: string, args: unknown[], trace?: TraceCarrier }
  | { type: 'spans', spans: WireSpan[] }
  | { type: 'result', id: number, ok: true, value: unknown }
  | { type: 'result', id: number, ok: false, error: WireError }
  | { type: 'log', level: 'warn' | 'error', message: string, error?: WireError }

/**
 * World members a deployment's runtime may call, by path. `getDeploymentId` and
 * `createQueueHandler` are answered inside the thread; lifecycle members (`start`, `close`,
 * `registerHandler`) are never forwarded.
 */
export const FORWARDED_WORLD_METHODS = [
  'queue',
  'runs.get', 'runs.list',
  'steps.get', 'steps.list',
  'events.create', 'events.get', 'events.list', 'events.listByCorrelationId',
  'hooks.get', 'hooks.getByToken', 'hooks.list',
  'writeToStream', 'writeToStreamMulti', 'closeStream', 'readFromStream',
  'listStreamsByRunId', 'getStreamChunks', 'getStreamInfo',
  'getEncryptionKeyForRun', 'resolveLatestDeploymentId'
] as const

export function toWireError (error: unknown): WireError {
  if (typeof error !== 'object' || error === null || !('message' in error)) {
    return { name: 'Error', message: String(error), props: {} }
  }
  const source = error as Error & Record<string, unknown>
  const props: Record<string, unknown> = {}
  // status, code, retryAfter, runId…: the runtime reads them (classify-error.js, ThrottleError).
  for (const [key, value] of Object.entries(source)) {
    if (key === 'cause' || typeof value === 'function') continue
    try {
      props[key] = structuredClone(value)
    } catch {
      // not cloneable: left behind
    }
  }
  return { name: String(source.name ?? 'Error'), message: String(source.message), stack: source.stack, props }
}

/** Rebuilds an error whose `name` matches, so `EntityConflictError.is(err)` and the like still hold. */
export function fromWireError (wire: WireError): Error {
  const error = new Error(wire.message)
  Object.assign(error, wire.props)
  error.name = wire.name
  if (wire.stack !== undefined) error.stack = wire.stack
  return error
}

export async function toWireRequest (request: Request): Promise<WireRequest> {
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD'
  return {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    body: hasBody ? await request.arrayBuffer() : null
  }
}

export function fromWireRequest (wire: WireRequest): Request {
  return new Request(wire.url, { method: wire.method, headers: wire.headers, body: wire.body })
}

export async function toWireResponse (response: Response): Promise<WireResponse> {
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: response.body === null ? null : await response.arrayBuffer()
  }
}

export function fromWireResponse (wire: WireResponse): Response {
  const withoutBody = wire.status === 204 || wire.status === 205 || wire.status === 304
  return new Response(withoutBody ? null : wire.body, { status: wire.status, statusText: wire.statusText, headers: wire.headers })
}
