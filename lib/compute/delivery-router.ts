import { EntityConflictError, RUN_ERROR_CODES, RunExpiredError, WorkflowRunNotFoundError } from '@workflow/errors'
import { SpanKind, type Span } from '@opentelemetry/api'
import { SPEC_VERSION_CURRENT, type World } from '@workflow/world'
import { decodeTime } from 'ulid'
import { DeploymentNotFoundError } from './artifacts.js'
import { BoundedMap } from '../bounded.js'
import type { DeploymentPool } from './deployment-pool.js'
import { DeploymentUnavailableError, type DeploymentThread } from './deployment-thread.js'
import { answerHealthCheck, healthCheckCorrelationId } from './health-check.js'
import type { DeliveryKind, DeliveryMeta, DeliveryResult } from './protocol.js'
import { RedeliveryAttempts } from './redelivery-attempts.js'
import type { DeliveryOutcome, ExecutorMetrics } from './types.js'
import { contextFromCarrier, currentTraceCarrier, inSpan, SPAN_ATTRIBUTES, tracingActive } from '../observability/tracing.js'

/** The SDK's own limit (@workflow/core 4.8.9 runtime/constants.js MAX_QUEUE_DELIVERIES). */
const MAX_QUEUE_DELIVERIES = 48

export interface RouterLog {
  warn (detail: Record<string, unknown>, message: string): void
  error (detail: Record<string, unknown>, message: string): void
}

/**
 * Hands each queue delivery to the thread of the deployment its run belongs to. Messages carry
 * no deployment: a run's first workflow message has `runInput.deploymentId`; every other one is
 * looked up by run (cached). The first message must not depend on the lookup, because start()
 * records run_created and queues the message in parallel.
 */
export class DeliveryRouter {
  private readonly runDeployments = new BoundedMap<string, string>(50_000)
  private readonly attempts = new RedeliveryAttempts()

  constructor (
    private readonly world: World,
    private readonly pool: DeploymentPool,
    private readonly log: RouterLog,
    private readonly metrics?: ExecutorMetrics
  ) {}

  /** Throws (the queue answers 500 and retries) when the message could not be run. */
  async route (kind: DeliveryKind, message: unknown, meta: DeliveryMeta): Promise<DeliveryResult> {
    const delivery: Delivery = { kind, message, meta, outcome: 'failed' }
    try {
      if (!tracingActive()) return await this.deliver(delivery)
      return await inSpan(`deliver ${kind} ${shortName(meta.queueName)}`, {
        kind: SpanKind.CONSUMER,
        parent: contextFromCarrier(traceCarrierOf(message)),
        attributes: {
          [SPAN_ATTRIBUTES.queueName]: meta.queueName,
          [SPAN_ATTRIBUTES.messageId]: meta.messageId,
          ...(runIdOf(kind, message) !== undefined ? { [SPAN_ATTRIBUTES.runId]: runIdOf(kind, message) } : {})
        }
      }, async (span) => {
        delivery.span = span
        try {
          return await this.deliver(delivery)
        } finally {
          span.setAttribute(SPAN_ATTRIBUTES.deliveryOutcome, delivery.outcome)
        }
      })
    } finally {
      this.metrics?.delivery(kind, delivery.outcome, meta.attempt === 1 ? queuedSecondsAgo(message, meta) : undefined)
    }
  }

  private async deliver (delivery: Delivery): Promise<DeliveryResult> {
    const { kind, message, meta, span } = delivery
    const healthCheck = healthCheckCorrelationId(message)
    if (healthCheck !== undefined) {
      await answerHealthCheck(this.world, kind, healthCheck)
      delivery.outcome = 'health_check'
      return undefined
    }
    const runId = runIdOf(kind, message)
    const attempt = this.attempts.shown(meta.messageId, meta.attempt)
    span?.setAttribute(SPAN_ATTRIBUTES.attempt, attempt)
    let thread: DeploymentThread
    try {
      thread = await this.pool.acquire(await this.deploymentOf(runId, message))
    } catch (error) {
      delivery.outcome = 'unroutable'
      return await this.unroutable(runId, meta, attempt, error)
    }
    span?.setAttribute(SPAN_ATTRIBUTES.deploymentId, thread.deploymentId)
    // Traced: the runtime in the thread continues from this delivery's span, not the sender's.
    const trace = span === undefined ? undefined : currentTraceCarrier()
    const delivered = trace === undefined ? message : { ...(message as object), traceCarrier: trace }
    let result: DeliveryResult
    try {
      result = await thread.deliver(kind, delivered, { ...meta, attempt }, trace)
    } catch (error) {
      // A thread that died mid-delivery: the message goes back to the queue like any failure.
      if (error instanceof DeploymentUnavailableError) {
        delivery.outcome = 'unroutable'
        return await this.unroutable(runId, meta, attempt, error)
      }
      throw error
    }
    this.attempts.settle(meta.messageId, meta.attempt, result)
    delivery.outcome = result === undefined ? 'ok' : 'rescheduled'
    return result
  }

  /** The deployment a run was started on (cached: it never changes). */
  async deploymentOfRun (runId: string): Promise<string> {
    const cached = this.runDeployments.get(runId)
    if (cached !== undefined) return cached
    const run = await this.world.runs.get(runId, { resolveData: 'none' })
    this.runDeployments.set(runId, run.deploymentId)
    return run.deploymentId
  }

  private async deploymentOf (runId: string | undefined, message: unknown): Promise<string> {
    const fromInput = (message as { runInput?: { deploymentId?: unknown } } | null)?.runInput?.deploymentId
    if (typeof fromInput === 'string') {
      if (runId !== undefined) this.runDeployments.set(runId, fromInput)
      return fromInput
    }
    if (runId === undefined) throw new DeploymentNotFoundError('(none)', 'the message names no run')
    return await this.deploymentOfRun(runId)
  }

  /**
   * The message never reached a deployment (none on disk, code that fails to load, a crashed
   * thread, a run that cannot be read). It is retried like any failed delivery until the SDK's
   * own delivery limit; past it the run is failed, as the SDK would, instead of retried forever.
   */
  private async unroutable (runId: string | undefined, meta: DeliveryMeta, attempt: number, error: unknown): Promise<DeliveryResult> {
    if (attempt <= MAX_QUEUE_DELIVERIES) {
      this.log.warn({ runId, queueName: meta.queueName, attempt, err: error }, 'delivery not run; the queue retries it')
      throw error
    }
    this.attempts.settle(meta.messageId, meta.attempt, undefined)
    this.log.error({ runId, queueName: meta.queueName, attempt, err: error }, 'giving up on a delivery no deployment could take')
    if (runId === undefined || WorkflowRunNotFoundError.is(error)) return undefined
    try {
      await this.world.events.create(runId, {
        eventType: 'run_failed',
        specVersion: SPEC_VERSION_CURRENT,
        eventData: {
          error: { message: `The worker could not run this message after ${attempt} deliveries: ${(error as Error)?.message ?? String(error)}` },
          errorCode: RUN_ERROR_CODES.MAX_DELIVERIES_EXCEEDED
        }
      })
    } catch (failure) {
      if (!EntityConflictError.is(failure) && !RunExpiredError.is(failure)) {
        this.log.error({ runId, err: failure }, 'could not mark the run failed')
      }
    }
    return undefined
  }
}

interface Delivery {
  kind: DeliveryKind
  message: unknown
  meta: DeliveryMeta
  outcome: DeliveryOutcome
  span?: Span
}

function traceCarrierOf (message: unknown): Record<string, unknown> | undefined {
  const carrier = (message as { traceCarrier?: unknown } | null)?.traceCarrier
  return carrier !== null && typeof carrier === 'object' ? carrier as Record<string, unknown> : undefined
}

/** `greetStep` of `__wkf_step_step//./workflows/demo//greetStep`: what a span name can hold. */
function shortName (queueName: string): string {
  const slash = queueName.lastIndexOf('/')
  return slash === -1 ? queueName.replace(/^__wkf_(?:workflow|step)_/, '') : queueName.slice(slash + 1)
}

/**
 * Seconds since the message was queued: the runtime stamps `requestedAt` on the messages it
 * sends; a trigger's first message has none, but world-local's message ids are ULIDs of the
 * moment it was queued.
 */
function queuedSecondsAgo (message: unknown, meta: DeliveryMeta): number | undefined {
  const requestedAt = (message as { requestedAt?: unknown } | null)?.requestedAt
  let queuedAt = requestedAt instanceof Date || typeof requestedAt === 'string' ? new Date(requestedAt).getTime() : NaN
  if (Number.isNaN(queuedAt) && meta.messageId.startsWith('msg_')) {
    try {
      queuedAt = decodeTime(meta.messageId.slice(4))
    } catch {}
  }
  const seconds = (Date.now() - queuedAt) / 1000
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined
}

function runIdOf (kind: DeliveryKind, message: unknown): string | undefined {
  const fields = (message ?? {}) as { runId?: unknown, workflowRunId?: unknown }
  const runId = kind === 'workflow' ? fields.runId : fields.workflowRunId
  return typeof runId === 'string' ? runId : undefined
}
