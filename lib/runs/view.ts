import { importKey } from '@workflow/core/encryption'
import { decodeFormatPrefix, getExternalRevivers, getWorkflowRevivers, maybeDecrypt, SerializationFormat } from '@workflow/core/serialization'
import type { Event, World, WorkflowRun, WorkflowRunWithoutData } from '@workflow/world'
import { parse, unflatten } from 'devalue'
import { bytesToBase64 } from '../bytes.js'
import type { RunEvent, Run } from '../schemas/runs.js'
import { relativeStack } from './stack.js'

/** A run as the public lane shows it: no tokens or raw bytes; input and output are decoded apart (`decodeRunData`). */
export function runView (run: WorkflowRun | WorkflowRunWithoutData): Run {
  return {
    runId: run.runId,
    status: run.status,
    workflowName: run.workflowName,
    deploymentId: run.deploymentId,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    ...(run.startedAt !== undefined ? { startedAt: run.startedAt.toISOString() } : {}),
    ...(run.completedAt !== undefined ? { completedAt: run.completedAt.toISOString() } : {}),
    ...(run.error !== undefined ? { error: publicError(run.error) } : {})
  }
}

/**
 * A run's or an event's error as it leaves the worker (the run view, the event list, and so the
 * dashboard, which reads both through the API). The stack is relativized here, not where it is
 * recorded: the SDK writes it into the World from the deployment's thread (or a remote runtime on
 * the internal lane), the World keeps the SDK's data as the SDK wrote it, and every stack of
 * every World, runs recorded before included, leaves through this one function.
 */
function publicError (error: unknown): { message: string, code?: string, stack?: string } {
  if (error !== null && typeof error === 'object') {
    const { message, code, stack } = error as { message?: unknown, code?: unknown, stack?: unknown }
    return {
      message: String(message ?? 'unknown error'),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof stack === 'string' && stack !== '' ? { stack: relativeStack(stack) } : {})
    }
  }
  return { message: String(error) }
}

/** The run's encryption key when the World has one (what `Run.getEncryptionKey` does in @workflow/core 4.8.9's runtime/run.js). */
export async function runEncryptionKey (world: World, run: WorkflowRun | WorkflowRunWithoutData): Promise<CryptoKey | undefined> {
  const raw = await world.getEncryptionKeyForRun?.(run as WorkflowRun)
  return raw ? await importKey(raw) : undefined
}

type Revivers = ReturnType<typeof getExternalRevivers>

let revivers: { input: Revivers, output: Revivers } | undefined

/**
 * The revivers of values leaving a run: its input with the SDK's workflow-side set (as
 * `hydrateWorkflowArguments` uses), its output and stream chunks with the client-side set (as
 * `hydrateWorkflowReturnValue` does), except that streams become a reference (`{ stream: name }`)
 * instead of a live reader, which the SDK would open on its global World. Built once: the SDK's
 * functions build their forty revivers on every call, which cost more than decoding a small input
 * and most of GET /v1/runs/:id. None depends on the run: the SDK uses a run's id and key only to
 * open a stream, which a reference never does, and a Response body (bodyInit, plain data) needs neither.
 */
export function publicRevivers (): { input: Revivers, output: Revivers } {
  if (revivers === undefined) {
    const external = getExternalRevivers(globalThis, [], '', undefined)
    const streamReference = (value: any): unknown => 'bodyInit' in value ? external.ReadableStream(value) : { stream: value.name ?? null }
    const streams = { ReadableStream: streamReference, WritableStream: streamReference }
    revivers = { input: { ...getWorkflowRevivers(globalThis), ...streams }, output: { ...external, ...streams } }
  }
  return revivers
}

const utf8 = new TextDecoder()

/** One stored value decoded as the SDK's hydrate functions decode it, with the given revivers. */
async function decodeStored (value: unknown, key: CryptoKey | undefined, using: Revivers): Promise<unknown> {
  const decrypted = await maybeDecrypt(value, key)
  // Runs of specVersion 1 stored plain devalue arrays, not bytes.
  if (!(decrypted instanceof Uint8Array)) return unflatten(decrypted as number | unknown[], using)
  const { format, payload } = decodeFormatPrefix(decrypted)
  if (format !== SerializationFormat.DEVALUE_V1) throw new Error(`Unsupported serialization format: ${format}`)
  return parse(utf8.decode(payload as Uint8Array), using)
}

/**
 * Decodes a run's arguments and, once it completed, its return value the SDK's way
 * (`hydrateWorkflowArguments`, `hydrateWorkflowReturnValue`), then to JSON.
 */
export async function decodeRunData (world: World, run: WorkflowRun): Promise<{ input?: unknown[], output?: unknown }> {
  const hasOutput = run.status === 'completed' && run.output !== undefined
  if (run.input === undefined && !hasOutput) return {}
  const key = await runEncryptionKey(world, run)
  const { input: inputRevivers, output: outputRevivers } = publicRevivers()
  const decoded: { input?: unknown[], output?: unknown } = {}
  if (run.input !== undefined) {
    const input = toJsonValue(await decodeStored(run.input, key, inputRevivers))
    if (Array.isArray(input)) decoded.input = input
  }
  if (hasOutput) {
    const output = toJsonValue(await decodeStored(run.output, key, outputRevivers))
    if (output !== undefined) decoded.output = output
  }
  return decoded
}

/**
 * What JSON can carry of a decoded value: dates as ISO strings, bigints as strings, maps as
 * objects (or entry lists), sets as arrays, bytes as base64.
 */
export function toJsonValue (value: unknown): unknown {
  if (isJsonAsIs(value, 0)) return value
  const text = JSON.stringify(value, function replacer (this: Record<string, unknown>, key, replaced) {
    const original = this[key]
    if (typeof original === 'bigint') return original.toString()
    if (original instanceof Map) {
      const entries = [...original.entries()]
      return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : entries
    }
    if (original instanceof Set) return [...original]
    if (original instanceof ArrayBuffer) return Buffer.from(original).toString('base64')
    if (ArrayBuffer.isView(original)) return bytesToBase64(original)
    return replaced
  })
  return text === undefined ? undefined : JSON.parse(text)
}

const AS_IS_DEPTH = 32

// Most decoded values are JSON already (strings, finite numbers, plain objects and arrays): a
// walk over them costs less than the stringify and parse that would give them back unchanged.
function isJsonAsIs (value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0)
    case 'object': {
      if (value === null) return true
      if (depth >= AS_IS_DEPTH) return false
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          if (!(index in value) || !isJsonAsIs(value[index], depth + 1)) return false
        }
        return true
      }
      const prototype = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) return false
      for (const key in value) {
        if (!isJsonAsIs((value as Record<string, unknown>)[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

const PUBLIC_EVENT_FIELDS = ['stepName', 'workflowName', 'deploymentId', 'attempt', 'resumeAt', 'retryAfter', 'errorCode', 'isWebhook'] as const

/** An event as the public lane shows it: what happened and when, never tokens or payload bytes. */
export function eventView (event: Event): RunEvent {
  const eventData = (event as { eventData?: Record<string, unknown> }).eventData ?? {}
  const data: Record<string, unknown> = {}
  for (const field of PUBLIC_EVENT_FIELDS) {
    const value = eventData[field]
    if (value !== undefined) data[field] = value instanceof Date ? value.toISOString() : value
  }
  if (eventData.error !== undefined) data.error = publicError(eventData.error)
  return {
    eventId: event.eventId,
    eventType: event.eventType,
    ...(event.correlationId !== undefined ? { correlationId: event.correlationId } : {}),
    createdAt: event.createdAt.toISOString(),
    ...(Object.keys(data).length > 0 ? { data } : {})
  }
}
