import { EntityConflictError, RUN_ERROR_CODES, RunExpiredError, WorkflowRunNotFoundError } from '@workflow/errors'
import { SPEC_VERSION_CURRENT, type World } from '@workflow/world'
import { DeploymentNotFoundError } from './artifacts.js'
import { BoundedMap } from '../bounded.js'
import type { DeploymentPool } from './deployment-pool.js'
import { DeploymentUnavailableError, type DeploymentThread } from './deployment-thread.js'
import { answerHealthCheck, healthCheckCorrelationId } from './health-check.js'
import type { DeliveryKind, DeliveryMeta, DeliveryResult } from './protocol.js'
import { RedeliveryAttempts } from './redelivery-attempts.js'

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
    private readonly log: RouterLog
  ) {}

  /** Throws (the queue answers 500 and retries) when the message could not be run. */
  async route (kind: DeliveryKind, message: unknown, meta: DeliveryMeta): Promise<DeliveryResult> {
    const healthCheck = healthCheckCorrelationId(message)
    if (healthCheck !== undefined) {
      await answerHealthCheck(this.world, kind, healthCheck)
      return undefined
    }
    const runId = runIdOf(kind, message)
    const attempt = this.attempts.shown(meta.messageId, meta.attempt)
    let thread: DeploymentThread
    try {
      thread = await this.pool.acquire(await this.deploymentOf(runId, message))
    } catch (error) {
      return await this.unroutable(runId, meta, attempt, error)
    }
    let result: DeliveryResult
    try {
      result = await thread.deliver(kind, message, { ...meta, attempt })
    } catch (error) {
      // A thread that died mid-delivery: the message goes back to the queue like any failure.
      if (error instanceof DeploymentUnavailableError) return await this.unroutable(runId, meta, attempt, error)
      throw error
    }
    this.attempts.settle(meta.messageId, meta.attempt, result)
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

function runIdOf (kind: DeliveryKind, message: unknown): string | undefined {
  const fields = (message ?? {}) as { runId?: unknown, workflowRunId?: unknown }
  const runId = kind === 'workflow' ? fields.runId : fields.workflowRunId
  return typeof runId === 'string' ? runId : undefined
}
