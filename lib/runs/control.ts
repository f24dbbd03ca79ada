import { setTimeout as sleep } from 'node:timers/promises'
import { EntityConflictError, HookNotFoundError, RunExpiredError, WorkflowRunNotFoundError } from '@workflow/errors'
import { getWorkflowQueueName } from '@workflow/core/runtime/helpers'
import { dehydrateStepReturnValue, SerializationFormat } from '@workflow/core/serialization'
import {
  isLegacySpecVersion,
  isTerminalWorkflowRunStatus,
  SPEC_VERSION_CURRENT,
  SPEC_VERSION_LEGACY,
  type Hook,
  type World,
  type WorkflowRun,
  type WorkflowRunWithoutData
} from '@workflow/world'
import { DomainError } from '../errors.js'
import { CORRELATION_HEADER } from '../headers.js'
import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
import type { RunHook } from '../schemas/runs.js'
import { getRunCapabilities } from '../sdk/core-internals.js'
import { runEncryptionKey } from './view.js'

function alreadyFinished (runId: string, status: string): DomainError {
  return new DomainError('run_already_finished', `Run ${runId} is already ${status}`, { details: { runId, status } })
}

/**
 * Cancels a run as the SDK's `cancelRun` does in @workflow/core 4.8.9's runtime/runs.js: read the run, then record
 * `run_cancelled` at its spec version. Nothing is queued; the World cancels the run and disposes
 * its hooks and waits, and in-flight invocations stop on their next event.
 */
export async function cancelRun (world: World, runId: string): Promise<WorkflowRun | WorkflowRunWithoutData> {
  const run = await world.runs.get(runId, { resolveData: 'none' })
  if (isTerminalWorkflowRunStatus(run.status)) throw alreadyFinished(runId, run.status)
  const specVersion = run.specVersion ?? SPEC_VERSION_LEGACY
  try {
    const result = await world.events.create(runId, { eventType: 'run_cancelled', specVersion }, { v1Compat: isLegacySpecVersion(specVersion) })
    return result.run ?? await world.runs.get(runId, { resolveData: 'none' })
  } catch (error) {
    // The run finished between the read and the event.
    if (EntityConflictError.is(error) || RunExpiredError.is(error)) {
      const now = await world.runs.get(runId, { resolveData: 'none' })
      throw alreadyFinished(runId, now.status)
    }
    throw error
  }
}

export interface ResumeOptions {
  /** Carried on the wake-up message (`x-workflow-correlation-id`), as triggers carry theirs. */
  correlationId?: string
  /** Told when the wake-up could not be queued even after the background retries. */
  onEnqueueFailure?: (error: unknown, runId: string) => void
  /** Delays between enqueue attempts made while the request waits. */
  retryDelaysMs?: readonly number[]
}

const INLINE_RETRY_DELAYS_MS = [100, 500, 2000]
const BACKGROUND_RETRY_DELAY_MS = 30_000
const BACKGROUND_RETRIES = 20

/**
 * Delivers `payload` to the hook waiting on `token`, as the SDK's `resumeHook` does
 * in @workflow/core 4.8.9's runtime/resume-hook.js, but on an explicit World: hook by token, payload serialized by
 * `dehydrateStepReturnValue` in a format the run's core version reads, `hook_received`, then
 * the workflow re-queued on the run's deployment.
 *
 * `hook_received` is not idempotent (a second one delivers the payload twice), so once it is
 * recorded this never fails the request over the wake-up: the enqueue is retried here, then in
 * the background, with an idempotency key derived from the event.
 */
export async function resumeHook (world: World, token: string, payload: unknown, options: ResumeOptions = {}): Promise<{ runId: string, hookId: string }> {
  const hook = await world.hooks.getByToken(token)
  return await deliverToHook(world, hook, payload, options)
}

/**
 * The same delivery to a hook named by its run and id rather than its token, for callers that
 * must not hold the token (it is the secret of a webhook's URL).
 */
export async function resumeHookById (world: World, runId: string, hookId: string, payload: unknown, options: ResumeOptions = {}): Promise<{ runId: string, hookId: string }> {
  let hook: Hook
  try {
    hook = await world.hooks.get(hookId)
  } catch (error) {
    throw HookNotFoundError.is(error) ? hookIdNotFound(runId, hookId) : error
  }
  if (hook.runId !== runId) throw hookIdNotFound(runId, hookId)
  return await deliverToHook(world, hook, payload, options)
}

function hookIdNotFound (runId: string, hookId: string): DomainError {
  return new DomainError('hook_not_found', `Run ${runId} has no hook ${hookId} waiting`)
}

/** The hooks a run is waiting on, oldest first, without their tokens. */
export async function listRunHooks (world: World, runId: string, limit: number, cursor?: string): Promise<Page<RunHook>> {
  const position = decodeCursor<{ w: string | null }>(cursor, (value) => value.w === null || typeof value.w === 'string')
  await world.runs.get(runId, { resolveData: 'none' })
  const page = await world.hooks.list({
    runId,
    pagination: { limit, cursor: position?.w ?? undefined, sortOrder: 'asc' },
    resolveData: 'none'
  })
  const hasMore = page.hasMore && page.cursor !== null
  return {
    data: page.data.map((hook) => ({
      hookId: hook.hookId,
      runId: hook.runId,
      createdAt: hook.createdAt.toISOString(),
      ...(hook.isWebhook !== undefined ? { isWebhook: hook.isWebhook } : {})
    })),
    cursor: hasMore ? encodeCursor({ w: page.cursor }) : null,
    hasMore
  }
}

async function deliverToHook (world: World, hook: Hook, payload: unknown, options: ResumeOptions): Promise<{ runId: string, hookId: string }> {
  const token = hook.token
  let run: WorkflowRun
  try {
    run = await world.runs.get(hook.runId)
  } catch (error) {
    // A hook whose run is gone waits for nothing: answered exactly as the World's own HookNotFoundError.
    throw WorkflowRunNotFoundError.is(error) ? new HookNotFoundError(token) : error
  }
  // Nor does one whose run is over: world-local stores a run as finished before it deletes the
  // run's hooks (storage/events-storage.js, run_completed), and would take a hook_received in between.
  if (isTerminalWorkflowRunStatus(run.status)) throw new HookNotFoundError(token)
  const coreVersion = run.executionContext?.workflowCoreVersion
  const capabilities = getRunCapabilities(typeof coreVersion === 'string' ? coreVersion : undefined)
  const key = capabilities.supportedFormats.has(SerializationFormat.ENCRYPTED) ? await runEncryptionKey(world, run) : undefined
  const v1Compat = isLegacySpecVersion(hook.specVersion)
  const serialized = await dehydrateStepReturnValue(payload, hook.runId, key, [], globalThis, v1Compat, capabilities.framedByteStreams)

  let eventId: string | undefined
  try {
    const result = await world.events.create(hook.runId, {
      eventType: 'hook_received',
      specVersion: SPEC_VERSION_CURRENT,
      correlationId: hook.hookId,
      eventData: { ...(v1Compat ? {} : { token: hook.token }), payload: serialized }
    }, { v1Compat })
    eventId = result.event?.eventId
  } catch (error) {
    if (EntityConflictError.is(error) || RunExpiredError.is(error)) throw alreadyFinished(hook.runId, 'finished')
    throw error
  }

  const enqueue = async (): Promise<void> => {
    await world.queue(getWorkflowQueueName(run.workflowName), {
      runId: hook.runId,
      traceCarrier: run.executionContext?.traceCarrier ?? undefined
    }, {
      deploymentId: run.deploymentId,
      specVersion: run.specVersion ?? SPEC_VERSION_LEGACY,
      ...(eventId !== undefined ? { idempotencyKey: `resume:${eventId}` } : {}),
      ...(options.correlationId !== undefined ? { headers: { [CORRELATION_HEADER]: options.correlationId } } : {})
    })
  }
  await enqueueWithRetries(enqueue, hook.runId, options)
  return { runId: hook.runId, hookId: hook.hookId }
}

async function enqueueWithRetries (enqueue: () => Promise<void>, runId: string, options: ResumeOptions): Promise<void> {
  const inline = await attemptAfterEachDelay(enqueue, [0, ...(options.retryDelaysMs ?? INLINE_RETRY_DELAYS_MS)], true)
  if (inline === undefined) return
  void attemptAfterEachDelay(enqueue, Array(BACKGROUND_RETRIES).fill(BACKGROUND_RETRY_DELAY_MS), false).then((background) => {
    if (background !== undefined) options.onEnqueueFailure?.(background.error, runId)
  })
}

/** Waits each delay, then tries; undefined once one try succeeds, else the last error. */
async function attemptAfterEachDelay (operation: () => Promise<void>, delaysMs: readonly number[], holdProcess: boolean): Promise<{ error: unknown } | undefined> {
  let lastError: unknown
  for (const delay of delaysMs) {
    if (delay > 0) await sleep(delay, undefined, { ref: holdProcess })
    try {
      await operation()
      return undefined
    } catch (error) {
      lastError = error
    }
  }
  return { error: lastError }
}
