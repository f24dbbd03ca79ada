import { EntityConflictError } from '@workflow/errors'
import { importKey } from '@workflow/core/encryption'
import { getWorkflowQueueName } from '@workflow/core/runtime/helpers'
import { dehydrateWorkflowArguments } from '@workflow/core/serialization'
import {
  isLegacySpecVersion,
  SPEC_VERSION_SUPPORTS_CBOR_QUEUE_TRANSPORT,
  type World,
  type WorkflowRun
} from '@workflow/world'
import { SpanKind } from '@opentelemetry/api'
import { CORRELATION_HEADER } from '../headers.js'
import { currentTraceCarrier, inSpan, SPAN_ATTRIBUTES, tracingActive } from '../observability/tracing.js'
import { isRetryableWorldError, WORKFLOW_CORE_VERSION } from '../sdk/core-internals.js'
import { worldSpecVersion } from '../world/spec-version.js'

export interface NewRun {
  /** Chosen by the caller (fixed in an idempotency record first); `wrun_<ULID>` of now. */
  runId: string
  deploymentId: string
  /** The full workflow id (`workflow//./workflows/order//processOrder`). */
  workflowName: string
  input: unknown[]
  /** Sent along as `x-workflow-correlation-id` on the queue message. */
  correlationId?: string
}

export interface CreatedRun {
  /** The run as the World returned it; absent when the run already existed or on a resilient start. */
  run: WorkflowRun | undefined
  /** run_created failed retryably but the queue took the run: the runtime creates it from run_started. */
  resilient: boolean
}

/**
 * Creates a run exactly as `start()` of @workflow/core 4.8.9 does (its runtime/start.js), on an
 * explicit World and with a caller-chosen run id: the same `run_created` event (input
 * serialized by `dehydrateWorkflowArguments`, the same executionContext), in parallel with the
 * same queue message (`runInput` from specVersion 3) and options `{ deploymentId, specVersion }`.
 * A `run_created` 409 means the run already exists (a retry after a crash): success, as in start().
 *
 * Two deliberate differences, both invisible to the runtime: byte streams are written in the
 * legacy raw format (`framedByteStreams: false`, start()'s own fallback when it cannot probe a
 * target; a JSON input can hold no stream, so the bytes are the same either way), and the trace
 * carrier also holds the correlation id, which the runtime carries on in its own messages.
 */
export async function createRun (world: World, request: NewRun): Promise<CreatedRun> {
  if (!tracingActive()) return await createRunNow(world, request)
  return await inSpan(`workflow.start ${request.workflowName}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [SPAN_ATTRIBUTES.runId]: request.runId,
      [SPAN_ATTRIBUTES.workflowName]: request.workflowName,
      [SPAN_ATTRIBUTES.deploymentId]: request.deploymentId
    }
  }, async () => await createRunNow(world, request))
}

async function createRunNow (world: World, request: NewRun): Promise<CreatedRun> {
  const { runId, deploymentId, workflowName } = request
  const specVersion = worldSpecVersion(world)
  const v1Compat = isLegacySpecVersion(specVersion)
  const rawKey = await world.getEncryptionKeyForRun?.(runId, { deploymentId })
  const encryptionKey = rawKey ? await importKey(rawKey) : undefined
  // What start() writes too: the active trace context (`{}` without a tracer provider).
  const traceCarrier = currentTraceCarrier()
  const input = await dehydrateWorkflowArguments(request.input, runId, encryptionKey, [], globalThis, v1Compat, false)
  const executionContext = { traceCarrier, workflowCoreVersion: WORKFLOW_CORE_VERSION, features: { encryption: !!encryptionKey } }

  const [created, queued] = await Promise.allSettled([
    world.events.create(runId, {
      eventType: 'run_created',
      specVersion,
      eventData: { deploymentId, workflowName, input, executionContext }
    }, { v1Compat }),
    world.queue(getWorkflowQueueName(workflowName), {
      runId,
      traceCarrier,
      ...(specVersion >= SPEC_VERSION_SUPPORTS_CBOR_QUEUE_TRANSPORT
        ? { runInput: { input, deploymentId, workflowName, specVersion, executionContext } }
        : {})
    }, {
      deploymentId,
      specVersion,
      ...(request.correlationId !== undefined ? { headers: { [CORRELATION_HEADER]: request.correlationId } } : {})
    })
  ])
  if (queued.status === 'rejected') throw queued.reason
  if (created.status === 'rejected') {
    if (EntityConflictError.is(created.reason)) return { run: undefined, resilient: false }
    if (isRetryableWorldError(created.reason)) return { run: undefined, resilient: true }
    throw created.reason
  }
  const run = created.value.run
  if (run === undefined) throw new Error("The World returned no 'run' for the run_created event")
  if (!v1Compat && run.runId !== runId) throw new Error(`The World created run ${run.runId} instead of ${runId}`)
  return { run, resilient: false }
}
