import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { DeliveryOutcome, ExecutorMetrics, ThreadSample } from '../compute/types.js'

/** How a trigger ended, from the caller's side. */
export type TriggerOutcome = 'created' | 'replayed' | 'conflict' | 'in_progress' | 'refused'
/** Where a trigger came from: `POST /v1/runs` or a provider webhook. */
export type TriggerSource = 'api' | 'webhook'

/** Seconds: from a fast SQLite read to a slow World write. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Seconds: runs and steps last from milliseconds to hours (sleeps, hooks). */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400]
/** Control-plane SQLite statements take microseconds. */
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5]

// Process metrics (CPU, memory, event loop, GC) are per process: collected once however many
// workers one process runs (tests run hundreds), then rendered with each worker's own.
let processRegistry: Registry | undefined
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * The worker's Prometheus metrics: one registry per worker instance, every label bounded (route
 * templates, workflow and step names from deployed manifests, fixed outcome sets; never a run,
 * key or delivery id). The one exception is `deployment` on the thread heap gauge: at most
 * `maxLoadedDeployments` series at a time, rebuilt on every scrape.
 */
export class WorkerMetrics implements ExecutorMetrics {
  readonly registry = new Registry()
  readonly contentType = this.registry.contentType
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly #triggers: Counter<'source' | 'outcome'>
  readonly #rateLimited: Counter<'route'>
  readonly #webhooks: Counter<'provider' | 'outcome'>
  readonly #runsStarted: Counter<'workflow'>
  readonly #runsFinished: Counter<'workflow' | 'status'>
  readonly #runDuration: Histogram<'workflow' | 'status'>
  readonly #stepAttempts: Counter<'step'>
  readonly #stepRetries: Counter<'step'>
  readonly #stepsFinished: Counter<'step' | 'status'>
  readonly #stepDuration: Histogram<'step' | 'status'>
  readonly #deliveries: Counter<'kind' | 'outcome'>
  readonly #deliveryDelay: Histogram<'kind'>
  readonly #threadStarts: Counter<'reason'>
  readonly #threadCrashes: Counter
  readonly #threadStates: Gauge<'state'>
  readonly #threadHeaps: Gauge<'deployment'>
  readonly #worldCalls: Histogram<'method' | 'outcome'>
  readonly #storeOperations: Histogram<'operation' | 'outcome'>
  #sampleThreads: (() => Promise<ThreadSample[]>) | undefined

  constructor (info: { version: string, world: string }) {
    const registers = [this.registry]
    new Gauge({ name: 'compute_worker_info', help: 'Always 1; the labels say which worker this is', labelNames: ['version', 'world'], registers })
      .set(info, 1)
    this.#httpDuration = new Histogram({
      name: 'compute_worker_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status code, and how long they took to answer',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers
    })
    this.#triggers = new Counter({
      name: 'compute_worker_triggers_total',
      help: 'Triggers (POST /v1/runs, webhook-started runs) by source and outcome: created, replayed, conflict, in_progress, refused',
      labelNames: ['source', 'outcome'],
      registers
    })
    this.#rateLimited = new Counter({ name: 'compute_worker_rate_limit_refusals_total', help: 'Requests refused with 429 rate_limited, by route template', labelNames: ['route'], registers })
    this.#webhooks = new Counter({
      name: 'compute_worker_webhook_deliveries_total',
      help: 'Provider webhook deliveries by provider (configured names; others are "unconfigured") and outcome: accepted, duplicate, refused, failed',
      labelNames: ['provider', 'outcome'],
      registers
    })
    this.#runsStarted = new Counter({ name: 'compute_worker_runs_started_total', help: 'Runs that started executing (pending to running), by workflow', labelNames: ['workflow'], registers })
    this.#runsFinished = new Counter({ name: 'compute_worker_runs_finished_total', help: 'Runs that ended, by workflow and status: completed, failed, cancelled', labelNames: ['workflow', 'status'], registers })
    this.#runDuration = new Histogram({
      name: 'compute_worker_run_duration_seconds',
      help: 'From a run\'s creation to its end, by workflow and status',
      labelNames: ['workflow', 'status'],
      buckets: RUN_BUCKETS,
      registers
    })
    this.#stepAttempts = new Counter({ name: 'compute_worker_step_attempts_total', help: 'Step attempts started, by step', labelNames: ['step'], registers })
    this.#stepRetries = new Counter({ name: 'compute_worker_step_retries_total', help: 'Step attempts that failed and will be retried, by step', labelNames: ['step'], registers })
    this.#stepsFinished = new Counter({ name: 'compute_worker_steps_finished_total', help: 'Steps that ended, by step and status: completed, failed', labelNames: ['step', 'status'], registers })
    this.#stepDuration = new Histogram({
      name: 'compute_worker_step_duration_seconds',
      help: 'From a step\'s first start to its end, retries included, by step and status',
      labelNames: ['step', 'status'],
      buckets: RUN_BUCKETS,
      registers
    })
    this.#deliveries = new Counter({
      name: 'compute_worker_queue_deliveries_total',
      help: 'Queue deliveries the executor served, by kind (workflow, step) and outcome: ok, rescheduled, failed, unroutable, health_check',
      labelNames: ['kind', 'outcome'],
      registers
    })
    this.#deliveryDelay = new Histogram({
      name: 'compute_worker_queue_delivery_delay_seconds',
      help: 'From a message being queued to its first delivery, by kind',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers
    })
    this.#threadStarts = new Counter({ name: 'compute_worker_executor_thread_starts_total', help: 'Deployment threads started, by reason: load (first delivery or after an unload), restart (after a crash)', labelNames: ['reason'], registers })
    this.#threadCrashes = new Counter({ name: 'compute_worker_executor_thread_crashes_total', help: 'Deployment threads that died unasked (crash, heap limit)', registers })
    const sampled = async (): Promise<ThreadSample[]> => await (this.#sampleThreads?.() ?? Promise.resolve([]))
    this.#threadStates = new Gauge({
      name: 'compute_worker_executor_threads',
      help: 'Deployment threads by state, sampled at scrape: answering, loading, unresponsive (its event loop did not answer within a second), crashed (died; restarted on its next delivery)',
      labelNames: ['state'],
      registers,
      async collect () {
        const samples = await sampled()
        this.reset()
        for (const state of ['answering', 'loading', 'unresponsive', 'crashed'] as const) {
          this.set({ state }, samples.filter((sample) => sample.state === state).length)
        }
      }
    })
    this.#threadHeaps = new Gauge({
      name: 'compute_worker_executor_thread_heap_used_bytes',
      help: 'V8 heap in use by each loaded deployment\'s thread, sampled at scrape',
      labelNames: ['deployment'],
      registers,
      async collect () {
        const samples = await sampled()
        this.reset()
        for (const sample of samples) {
          if (sample.heapUsedBytes !== undefined) this.set({ deployment: sample.deploymentId }, sample.heapUsedBytes)
        }
      }
    })
    this.#worldCalls = new Histogram({
      name: 'compute_worker_world_call_duration_seconds',
      help: 'Calls to the World (storage, queue, streams) by method and outcome (ok, error), from the executor, the internal lane and the routes',
      labelNames: ['method', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers
    })
    this.#storeOperations = new Histogram({
      name: 'compute_worker_store_operation_duration_seconds',
      help: 'Control-plane database statements by operation (verb and table) and outcome (ok, error)',
      labelNames: ['operation', 'outcome'],
      buckets: STORE_BUCKETS,
      registers
    })
  }

  /** The Prometheus text of this worker's metrics and the process's. */
  async render (): Promise<string> {
    return `${await processMetrics().metrics()}\n${await this.registry.metrics()}`
  }

  httpRequest (method: string, route: string, statusCode: number, seconds: number): void {
    this.#httpDuration.observe({ method, route, status_code: statusCode }, seconds)
    if (statusCode === 429) this.#rateLimited.inc({ route })
  }

  trigger (source: TriggerSource, outcome: TriggerOutcome): void {
    this.#triggers.inc({ source, outcome })
  }

  webhookDelivery (provider: string, outcome: string): void {
    this.#webhooks.inc({ provider, outcome })
  }

  runStarted (workflow: string): void {
    this.#runsStarted.inc({ workflow })
  }

  runFinished (workflow: string, status: string, seconds: number | undefined): void {
    this.#runsFinished.inc({ workflow, status })
    if (seconds !== undefined) this.#runDuration.observe({ workflow, status }, seconds)
  }

  stepAttempt (step: string): void {
    this.#stepAttempts.inc({ step })
  }

  stepRetry (step: string): void {
    this.#stepRetries.inc({ step })
  }

  stepFinished (step: string, status: string, seconds: number | undefined): void {
    this.#stepsFinished.inc({ step, status })
    if (seconds !== undefined) this.#stepDuration.observe({ step, status }, seconds)
  }

  worldCall (method: string, outcome: 'ok' | 'error', seconds: number): void {
    this.#worldCalls.observe({ method, outcome }, seconds)
  }

  storeOperation (operation: string, outcome: 'ok' | 'error', seconds: number): void {
    this.#storeOperations.observe({ operation, outcome }, seconds)
  }

  // ExecutorMetrics: what the in-process executor reports.
  delivery (kind: 'workflow' | 'step', outcome: DeliveryOutcome, delaySeconds?: number): void {
    this.#deliveries.inc({ kind, outcome })
    if (delaySeconds !== undefined) this.#deliveryDelay.observe({ kind }, delaySeconds)
  }

  threadStarted (restart: boolean): void {
    this.#threadStarts.inc({ reason: restart ? 'restart' : 'load' })
  }

  threadCrashed (): void {
    this.#threadCrashes.inc()
  }

  sampleThreadsWith (sample: () => Promise<ThreadSample[]>): void {
    this.#sampleThreads = sample
  }
}

/** A trigger's outcome from its answer: the status, the error code of a refusal, the replay flag. */
export function triggerOutcome (statusCode: number, code: string | undefined, replayed: boolean): TriggerOutcome {
  if (statusCode >= 200 && statusCode < 300) return replayed ? 'replayed' : 'created'
  if (code === 'idempotency_conflict') return 'conflict'
  if (code === 'idempotency_in_progress') return 'in_progress'
  return 'refused'
}

/** Runs a trigger made outside an HTTP trigger route (a webhook's) and counts its outcome. */
export async function countedTrigger<T> (
  metrics: WorkerMetrics | undefined,
  source: TriggerSource,
  work: () => Promise<T>
): Promise<T> {
  if (metrics === undefined) return await work()
  try {
    const outcome = await work()
    metrics.trigger(source, (outcome as { replayed?: unknown } | null)?.replayed === true ? 'replayed' : 'created')
    return outcome
  } catch (error) {
    const { statusCode, code } = (error ?? {}) as { statusCode?: unknown, code?: unknown }
    metrics.trigger(source, triggerOutcome(typeof statusCode === 'number' ? statusCode : 500, typeof code === 'string' ? code : undefined, false))
    throw error
  }
}
