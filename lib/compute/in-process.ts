import { getQueueTopicPrefix, resolveQueueNamespace, type World } from '@workflow/world'
import type { FastifyBaseLogger } from 'fastify'
import { DeploymentPool, type PoolStats, type ThreadReport } from './deployment-pool.js'
import type { ThreadState } from './deployment-thread.js'
import { DeliveryRouter } from './delivery-router.js'
import { fromWireResponse, toWireRequest } from './protocol.js'
import type { ComputeContext, ComputeExecutor, DeliveryEndpoint } from './types.js'
import { currentTraceCarrier, tracingActive } from '../observability/tracing.js'

export interface InProcessComputeOptions {
  /** Where deployments live (`<artifactDir>/<deploymentId>/flow.js`…); defaults to the worker's `artifactDir`. */
  artifactDir?: string
  /** Most deployments loaded at once (one thread each); the least recently used idle one is unloaded beyond it. Default 8. */
  maxLoadedDeployments?: number
  /** A loaded deployment with nothing in flight for this long is unloaded. Default 10 minutes. */
  idleUnloadMs?: number
  /** Heap limit of each deployment's thread in MiB; a deployment that exceeds it is restarted. Default 512. */
  threadMemoryMb?: number
  /** How long a readiness probe (and a metrics scrape) waits for each loaded thread to answer. Default 1 s. */
  threadCheckMs?: number
  /** Admits queue deliveries from non-loopback callers that send it as `x-workflow-delivery-secret`. */
  deliverySecret?: string
}

export const IN_PROCESS_DEFAULTS = {
  maxLoadedDeployments: 8,
  idleUnloadMs: 10 * 60_000,
  threadMemoryMb: 512,
  // world-local retries a failed delivery after 5 s: one reload attempt per retry wave.
  loadRetryMs: 4_000,
  // On close, deliveries in flight may finish for this long (within close-with-grace's 10 s).
  closeGraceMs: 5_000,
  // A readiness probe waits this long for each loaded thread to answer (they are asked at once).
  threadCheckMs: 1_000
} as const

type QueueRequestHandler = (request: Request) => Promise<Response>

/** The in-process executor's health report (see `InProcessCompute.health`). */
export type InProcessHealth = PoolStats & {
  kind: string
  ready: boolean
  /** Why it is not ready. */
  reason?: string
  threads: ThreadReport[]
  threadCounts: Record<'loaded' | ThreadState, number>
  maxLoadedDeployments: number
}

interface Running {
  world: World
  log: FastifyBaseLogger
  pool: DeploymentPool
  router: DeliveryRouter
  handlers: Record<DeliveryEndpoint, QueueRequestHandler>
}

function positive (name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`createInProcessCompute: ${name} must be a positive number, got ${value}`)
  return value
}

/**
 * The in-process executor: runs deployed Workflow SDK builds in this process, each deployment
 * in a worker thread of its own (its own realm, so builds that share step ids stay apart), all
 * on the worker's one World: its queue is consumed here and each delivery handed to the thread
 * of the run's deployment.
 */
export class InProcessCompute implements ComputeExecutor {
  readonly kind = 'in-process'
  readonly deliverySecret: string | undefined
  private readonly settings: Required<Omit<InProcessComputeOptions, 'artifactDir' | 'deliverySecret'>>
  private running: Running | undefined
  private pool: DeploymentPool | undefined

  constructor (private readonly options: InProcessComputeOptions = {}) {
    this.deliverySecret = options.deliverySecret === '' ? undefined : options.deliverySecret
    this.settings = {
      maxLoadedDeployments: positive('maxLoadedDeployments', options.maxLoadedDeployments, IN_PROCESS_DEFAULTS.maxLoadedDeployments),
      idleUnloadMs: positive('idleUnloadMs', options.idleUnloadMs, IN_PROCESS_DEFAULTS.idleUnloadMs),
      threadMemoryMb: positive('threadMemoryMb', options.threadMemoryMb, IN_PROCESS_DEFAULTS.threadMemoryMb),
      threadCheckMs: positive('threadCheckMs', options.threadCheckMs, IN_PROCESS_DEFAULTS.threadCheckMs)
    }
  }

  async start ({ world, log, artifactDir, metrics, prepareDeployment }: ComputeContext): Promise<void> {
    if (this.running !== undefined) throw new Error('this in-process executor is already started')
    const pool = new DeploymentPool({
      artifactDir: this.options.artifactDir ?? artifactDir,
      world,
      maxLoaded: this.settings.maxLoadedDeployments,
      idleUnloadMs: this.settings.idleUnloadMs,
      threadMemoryMb: this.settings.threadMemoryMb,
      loadRetryMs: IN_PROCESS_DEFAULTS.loadRetryMs,
      prepare: prepareDeployment,
      log: (level, message, detail) => log[level](detail ?? {}, message),
      metrics
    })
    metrics?.sampleThreadsWith(async () => await pool.sampleThreads(this.settings.threadCheckMs))
    const router = new DeliveryRouter(world, pool, log, metrics)
    const namespace = resolveQueueNamespace()
    const workflowPrefix = getQueueTopicPrefix('workflow', namespace)
    const stepPrefix = getQueueTopicPrefix('step', namespace)
    // The World's own handler decodes its delivery format (world-local's, which world-postgres reuses).
    const handlers = {
      flow: world.createQueueHandler(workflowPrefix, async (message, meta) => await router.route('workflow', message, meta)),
      step: world.createQueueHandler(stepPrefix, async (message, meta) => await router.route('step', message, meta))
    }
    this.running = { world, log, pool, router, handlers }
    this.pool = pool

    // In-process delivery where the World offers it (world-local); others deliver over HTTP.
    const direct = world as World & { registerHandler?: (prefix: string, handler: QueueRequestHandler) => void }
    if (typeof direct.registerHandler === 'function') {
      direct.registerHandler(workflowPrefix, async (request) => await this.deliverInProcess('flow', request))
      direct.registerHandler(stepPrefix, async (request) => await this.deliverInProcess('step', request))
    }
  }

  private async deliverInProcess (endpoint: DeliveryEndpoint, request: Request): Promise<Response> {
    // world-local's queue lives in memory and keeps retrying a refused message every 5 s for
    // 256 attempts, holding the process open after close. Once closed, messages are let go:
    // world.start() re-queues every active run on the next start.
    if (this.running === undefined) return Response.json({ ok: true, dropped: 'executor closed' })
    return await this.handleDelivery(endpoint, request)
  }

  async handleDelivery (endpoint: DeliveryEndpoint, request: Request): Promise<Response> {
    const running = this.running
    if (running === undefined) return Response.json({ error: 'the executor is not running' }, { status: 503 })
    try {
      return await running.handlers[endpoint](request)
    } catch (error) {
      // A thrown error would make world-local drop the message for good; a 500 is retried.
      running.log.error({ err: error, endpoint }, 'queue delivery failed')
      return Response.json({ error: 'delivery failed' }, { status: 500 })
    }
  }

  async handleWebhook (token: string, request: Request): Promise<Response> {
    const running = this.running
    if (running === undefined) return Response.json({ error: 'the executor is not running' }, { status: 503 })
    const hook = await running.world.hooks.getByToken(token)
    const thread = await running.pool.acquire(await running.router.deploymentOfRun(hook.runId))
    return fromWireResponse(await thread.webhook(await toWireRequest(request), token, tracingActive() ? currentTraceCarrier() : undefined))
  }

  /**
   * What readiness probes read. `ready`: the executor is started and not closed, so deliveries
   * reach deployment threads (a thread is started on its deployment's first delivery; no thread
   * yet is ready). `threads`: each loaded deployment's thread, asked to answer now. One
   * deployment's stuck or crashed thread does not make the worker unready: its deliveries are
   * retried and the thread restarted, while every other deployment keeps running here.
   */
  async health (): Promise<InProcessHealth> {
    const running = this.running
    const threads = running === undefined ? [] : await running.pool.checkThreads(this.settings.threadCheckMs)
    const count = (state: ThreadState): number => threads.filter((thread) => thread.state === state).length
    // Counts of a closed executor's pool stay readable; it has no threads left.
    const stats = this.pool?.stats() ?? { loaded: [], loads: 0, crashes: 0, crashed: [], failedLoads: [] }
    const ready = running !== undefined && this.running === running
    return {
      kind: this.kind,
      ready,
      ...(ready ? {} : { reason: this.pool === undefined ? 'the executor is not started' : 'the executor is closed' }),
      ...stats,
      threads,
      threadCounts: { loaded: threads.length, answering: count('answering'), loading: count('loading'), unresponsive: count('unresponsive') },
      maxLoadedDeployments: this.settings.maxLoadedDeployments
    }
  }

  async close (): Promise<void> {
    const running = this.running
    this.running = undefined
    await running?.pool.close(IN_PROCESS_DEFAULTS.closeGraceMs)
  }
}

export function createInProcessCompute (options: InProcessComputeOptions = {}): InProcessCompute {
  return new InProcessCompute(options)
}
