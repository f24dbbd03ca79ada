import { importKey } from '@workflow/core/encryption'
import { getExternalRevivers, hydrateWorkflowReturnValue } from '@workflow/core/serialization'
import type { Event, World, WorkflowRun, WorkflowRunWithoutData } from '@workflow/world'

/** A run as the public lane shows it: no input, tokens or raw bytes; output decoded to JSON. */
export interface RunView {
  runId: string
  status: string
  workflowName: string
  deploymentId: string
  createdAt: string
  updatedAt: string
  startedAt?: string
  completedAt?: string
  output?: unknown
  error?: { message: string, code?: string }
}

export function runView (run: WorkflowRun | WorkflowRunWithoutData): RunView {
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

function publicError (error: unknown): { message: string, code?: string } {
  if (error !== null && typeof error === 'object') {
    const { message, code } = error as { message?: unknown, code?: unknown }
    return { message: String(message ?? 'unknown error'), ...(typeof code === 'string' ? { code } : {}) }
  }
  return { message: String(error) }
}

/** The run's encryption key when the World has one ([C] Run.getEncryptionKey does the same). */
export async function runEncryptionKey (world: World, run: WorkflowRun | WorkflowRunWithoutData): Promise<CryptoKey | undefined> {
  const raw = await world.getEncryptionKeyForRun?.(run as WorkflowRun)
  return raw ? await importKey(raw) : undefined
}

/**
 * Revivers for values leaving the run: the SDK's own, except that streams become a reference
 * (`{ stream: name }`) instead of a live reader, which the SDK would open on its global World.
 */
export function publicRevivers (runId: string, key: CryptoKey | undefined): ReturnType<typeof getExternalRevivers> {
  const sdk = getExternalRevivers(globalThis, [], runId, key)
  // A Response body (bodyInit) is plain data; only World-backed streams are replaced.
  const streamReference = (value: any): unknown => 'bodyInit' in value ? sdk.ReadableStream(value) : { stream: value.name ?? null }
  return { ...sdk, ReadableStream: streamReference, WritableStream: streamReference }
}

/** Decodes a completed run's output the SDK's way (`hydrateWorkflowReturnValue`), then to JSON. */
export async function decodeRunOutput (world: World, run: WorkflowRun): Promise<unknown> {
  if (run.output === undefined) return undefined
  const key = await runEncryptionKey(world, run)
  const { ReadableStream, WritableStream } = publicRevivers(run.runId, key)
  const value = await hydrateWorkflowReturnValue(run.output, run.runId, key, [], globalThis, { ReadableStream, WritableStream })
  return toJsonValue(value)
}

/**
 * What JSON can carry of a decoded value: dates as ISO strings, bigints as strings, maps as
 * objects (or entry lists), sets as arrays, bytes as base64.
 */
export function toJsonValue (value: unknown): unknown {
  const text = JSON.stringify(value, function replacer (this: Record<string, unknown>, key, replaced) {
    const original = this[key]
    if (typeof original === 'bigint') return original.toString()
    if (original instanceof Map) {
      const entries = [...original.entries()]
      return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : entries
    }
    if (original instanceof Set) return [...original]
    if (original instanceof ArrayBuffer) return Buffer.from(original).toString('base64')
    if (ArrayBuffer.isView(original)) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64')
    return replaced
  })
  return text === undefined ? undefined : JSON.parse(text)
}

/** An event as the public lane shows it: what happened and when, never tokens or payload bytes. */
export interface EventView {
  eventId: string
  eventType: string
  correlationId?: string
  createdAt: string
  data?: Record<string, unknown>
}

const PUBLIC_EVENT_FIELDS = ['stepName', 'workflowName', 'deploymentId', 'attempt', 'resumeAt', 'retryAfter', 'errorCode', 'isWebhook'] as const

export function eventView (event: Event): EventView {
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
