import type { World } from '@workflow/world'
import type { FastifyBaseLogger } from 'fastify'

/** What an executor is given when the worker starts it (before the World starts). */
export interface ComputeContext {
  world: World
  log: FastifyBaseLogger
  /** The worker's `artifactDir` option: where deployments' files are stored. */
  artifactDir: string
  /**
   * Makes a deployment's files present and verified under `artifactDir` before its code is
   * loaded (a control plane on PostgreSQL fetches them into its local cache).
   */
  prepareDeployment?: (deploymentId: string) => Promise<unknown>
  /** Where the executor reports what it does; absent when the worker's metrics are off. */
  metrics?: ExecutorMetrics
}

/**
 * How a queue delivery ended: `ok` (done), `rescheduled` (the runtime asked for a later
 * redelivery: a sleep, a step retry), `failed` (the runtime threw; the queue retries),
 * `unroutable` (no deployment could take it), `health_check` (answered without a deployment).
 */
export type DeliveryOutcome = 'ok' | 'rescheduled' | 'failed' | 'unroutable' | 'health_check'

/** One deployment's thread at a scrape. */
export interface ThreadSample {
  deploymentId: string
  state: 'answering' | 'loading' | 'unresponsive' | 'crashed'
  heapUsedBytes?: number
}

/** What an executor reports to the worker's metrics. */
export interface ExecutorMetrics {
  delivery (kind: 'workflow' | 'step', outcome: DeliveryOutcome, delaySeconds?: number): void
  threadStarted (restart: boolean): void
  threadCrashed (): void
  /** Registers how the executor's threads are sampled when metrics are read. */
  sampleThreadsWith (sample: () => Promise<ThreadSample[]>): void
}

/** The internal routes a queue delivery can arrive on (`/.well-known/workflow/v1/{flow,step}`). */
export type DeliveryEndpoint = 'flow' | 'step'

/** Executes the workflow code of deployments (docs/architecture.md, "Execution"). */
export interface ComputeExecutor {
  readonly kind: string
  /** Attach to the World's queue; called before `world.start()`. */
  start (context: ComputeContext): Promise<void>
  close (): Promise<void>
  /** Detail for readiness probes; `ready: false` makes the worker not ready (503). */
  health? (): Record<string, unknown> | Promise<Record<string, unknown>>
  /**
   * Serves a queue delivery that arrived over HTTP (Worlds that deliver to the worker's own base
   * URL, as world-postgres does). Answers 500 rather than throwing. When present, the worker
   * serves `POST /.well-known/workflow/v1/{flow,step}` to loopback callers and to callers that
   * present `deliverySecret`.
   */
  handleDelivery? (endpoint: DeliveryEndpoint, request: Request): Promise<Response>
  /** Shared secret (header `x-workflow-delivery-secret`) that admits non-loopback deliveries. */
  readonly deliverySecret?: string
  /**
   * Serves the SDK's webhook URLs (`/.well-known/workflow/v1/webhook/:token`) with the webhook
   * bundle of the deployment the hook's run belongs to. Throws an error named
   * `HookNotFoundError` for an unknown token.
   */
  handleWebhook? (token: string, request: Request): Promise<Response>
}
