import {
  SPEC_VERSION_CURRENT,
  type CreateEventParams,
  type EventResult,
  type GetChunksOptions,
  type MessageId,
  type QueueOptions,
  type QueuePayload,
  type QueuePrefix,
  type StreamChunksResponse,
  type StreamInfoResponse,
  type ValidQueueName,
  type World,
  type WorkflowRun
} from '@workflow/world'
import { authorizesDelivery, DELIVERY_SECRET_ENV } from '../wire/credentials.js'
import { encodeChunkList, MAX_CHUNKS_PER_WRITE } from '../wire/frames.js'
import { revive } from '../wire/revive.js'
import { readRemoteStream } from './remote-stream.js'
import { WorldCalls, type WorldCallsOptions } from './world-calls.js'

export interface RemoteWorldOptions extends WorldCallsOptions {
  /**
   * The secret the worker sends as `Authorization: Bearer` with every queue delivery (its
   * `COMPUTE_WORKER_DELIVERY_SECRET`). The delivery handler (`createQueueHandler`) refuses any
   * delivery without it with 401; with no secret configured it refuses every delivery.
   */
  deliverySecret?: string
  /** Reconnects in a row without a new chunk before a stream read fails (TRANSPORT). Default 50. */
  maxStreamReconnects?: number
}

/**
 * Event types whose repeat is harmless (the World answers a duplicate with 409 or the same
 * result), after world-vercel's EVENT_RETRY_ELIGIBILITY. Absent on purpose: `step_started` (the
 * attempt would count twice), `step_retrying` (recorded twice), `hook_received` (the payload
 * delivered twice).
 */
const SAFE_TO_REPEAT = new Set([
  'run_created', 'run_started', 'run_completed', 'run_failed', 'run_cancelled',
  'step_created', 'step_completed', 'step_failed',
  'wait_created', 'wait_completed',
  'hook_created', 'hook_disposed'
])

type QueueHandler = Parameters<World['createQueueHandler']>[1]

function unauthorizedDelivery (message: string): Response {
  return Response.json({ error: message }, { status: 401, headers: { 'www-authenticate': 'Bearer' } })
}

interface WorldInfo { specVersion: number, deploymentId: string, encryption: boolean, resolveLatestDeployment: boolean }

function toBytes (chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
}

/**
 * A complete `@workflow/world` World whose storage, queue and streams are the worker's, reached
 * through the internal lane (scope `world:proxy`). Give it to the SDK runtime with
 * `setWorld(createRemoteWorld({ baseUrl, apiKey }))`, or name this module in
 * `WORKFLOW_TARGET_WORLD` (see `createWorld`).
 */
export function createRemoteWorld (options: RemoteWorldOptions): World {
  const lane = new WorldCalls(options)
  const deliverySecret = options.deliverySecret === '' ? undefined : options.deliverySecret
  let warnedNoSecret = false
  const json = lane.encoding === 'json'
  let info: Promise<WorldInfo> | undefined
  let deliveries: Promise<World> | undefined
  // Writes to one stream go out one after another: world-local orders chunks by arrival.
  const streamTails = new Map<string, Promise<unknown>>()

  const worldInfo = (): Promise<WorldInfo> => {
    info ??= lane.call<WorldInfo>({ method: 'GET', path: '/v1/world/info', safe: true })
    info.catch(() => { info = undefined })
    return info
  }

  function inStreamOrder<T> (name: string, operation: () => Promise<T>): Promise<T> {
    const previous = streamTails.get(name) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(operation)
    const tail = next.catch(() => {})
    streamTails.set(name, tail)
    tail.then(() => { if (streamTails.get(name) === tail) streamTails.delete(name) })
    return next
  }

  const get = <T>(path: string, query: Record<string, string | number | undefined>, reviveJson?: (value: unknown) => T) =>
    lane.call<T>({ method: 'GET', path, query, safe: true, revive: json ? reviveJson : undefined })

  const list = <T>(path: string, params: object, reviveJson: (value: unknown) => T, deadline = true) =>
    lane.call<T>({ method: 'POST', path, body: params, safe: true, deadline, revive: json ? reviveJson : undefined })

  const world: World = {
    specVersion: SPEC_VERSION_CURRENT,

    async getDeploymentId () {
      return (await get<{ deploymentId: string }>('/v1/world/deployment-id', {})).deploymentId
    },

    /** The worker's latest deployment when its World knows one, else the current one (what the runtime falls back to). */
    async resolveLatestDeploymentId () {
      if (!(await worldInfo()).resolveLatestDeployment) return await world.getDeploymentId()
      return (await get<{ deploymentId: string }>('/v1/world/deployment-id/latest', {})).deploymentId
    },

    async queue (queueName: ValidQueueName, message: QueuePayload, opts?: QueueOptions) {
      const runId = (message as { runId?: string }).runId ?? (message as { workflowRunId?: string }).workflowRunId
      return await lane.call<{ messageId: MessageId | null }>({
        method: 'POST',
        path: '/v1/queue/publish',
        body: { queueName, message, opts },
        // With an idempotency key the World drops the duplicate; without one a repeat is a second delivery.
        safe: opts?.idempotencyKey !== undefined,
        runId
      })
    },

    /**
     * Deliveries come from the worker's World straight to this process, in world-local's format
     * (x-vqs-* headers, tagged JSON body), which world-postgres shares: decoded by world-local's
     * own handler, the reference of the format its sender writes, rather than a second parser
     * that could drift from it, once the delivery secret is verified (world-local's handler checks
     * nothing; these requests run workflow and step code). world-local is loaded at the first
     * delivery, not with this module: a runtime that only calls the World never loads it. An
     * arrow function: the runtime calls it detached.
     */
    createQueueHandler: (prefix: QueuePrefix, handler: QueueHandler) => {
      let decode: Promise<(request: Request) => Promise<Response>> | undefined
      return async (request: Request) => {
        if (deliverySecret === undefined) {
          if (!warnedNoSecret) console.error(`[compute-worker client] queue delivery refused: no delivery secret is configured (${DELIVERY_SECRET_ENV}, or createRemoteWorld({ deliverySecret }))`)
          warnedNoSecret = true
          return unauthorizedDelivery(`no delivery secret is configured here (${DELIVERY_SECRET_ENV})`)
        }
        if (!authorizesDelivery(request.headers.get('authorization'), deliverySecret)) {
          return unauthorizedDelivery('a queue delivery needs Authorization: Bearer <delivery secret>')
        }
        deliveries ??= import('@workflow/world-local').then(({ createLocalWorld }) => createLocalWorld())
        decode ??= deliveries.then((local) => local.createQueueHandler(prefix, handler))
        return await (await decode)(request)
      }
    },

    runs: {
      get: ((id: string, params?: { resolveData?: 'all' | 'none' }) =>
        get(`/v1/world/runs/${encodeURIComponent(id)}`, { resolveData: params?.resolveData }, revive.run)) as World['runs']['get'],
      list: ((params = {}) => list('/v1/world/runs/list', params, revive.runs)) as World['runs']['list']
    },

    steps: {
      get: ((runId: string | undefined, stepId: string, params?: { resolveData?: 'all' | 'none' }) =>
        get(`/v1/world/steps/${encodeURIComponent(stepId)}`, { runId, resolveData: params?.resolveData }, revive.step)) as World['steps']['get'],
      list: ((params) => list('/v1/world/steps/list', params, revive.steps)) as World['steps']['list']
    },

    events: {
      create: (async (runId: string | null, data: { eventType: string }, params?: CreateEventParams) => {
        return await lane.call<EventResult>({
          method: 'POST',
          path: '/v1/world/events/create',
          body: { runId, data, params },
          safe: SAFE_TO_REPEAT.has(data.eventType),
          runId: runId ?? undefined,
          revive: json ? revive.eventResult : undefined
        })
      }) as World['events']['create'],
      get: (runId, eventId, params) =>
        get(`/v1/world/events/${encodeURIComponent(runId)}/${encodeURIComponent(eventId)}`, { resolveData: params?.resolveData }, revive.event),
      // A run's whole log can be long: no deadline.
      list: (params) => list('/v1/world/events/list', params, revive.events, false),
      listByCorrelationId: (params) => list('/v1/world/events/list-by-correlation', params, revive.events)
    },

    hooks: {
      get: (hookId, params) => get(`/v1/world/hooks/${encodeURIComponent(hookId)}`, { resolveData: params?.resolveData }, revive.hook),
      // The query form: a token in a path ends up in access logs, and `/` in it upsets proxies.
      getByToken: (token, params) => get('/v1/world/hooks/by-token', { token, resolveData: params?.resolveData }, revive.hook),
      list: (params) => list('/v1/world/hooks/list', params, revive.hooks)
    },

    writeToStream (name: string, runId: string, chunk: string | Uint8Array) {
      return inStreamOrder(name, async () => {
        const owner = await runId // the runtime may hand over a promise of the run id
        await lane.call({
          method: 'POST', path: '/v1/world/streams/write', query: { name, runId: owner }, bytes: toBytes(chunk), safe: false, runId: owner
        })
      })
    },

    writeToStreamMulti (name: string, runId: string, chunks: Array<string | Uint8Array>) {
      return inStreamOrder(name, async () => {
        const owner = await runId
        for (let start = 0; start < chunks.length; start += MAX_CHUNKS_PER_WRITE) {
          await lane.call({
            method: 'POST',
            path: '/v1/world/streams/write',
            query: { name, runId: owner },
            bytes: encodeChunkList(chunks.slice(start, start + MAX_CHUNKS_PER_WRITE).map(toBytes)),
            headers: { 'x-stream-multi': 'true' },
            safe: false,
            runId: owner
          })
        }
      })
    },

    closeStream (name: string, runId: string) {
      return inStreamOrder(name, async () => {
        const owner = await runId
        await lane.call({ method: 'POST', path: '/v1/world/streams/close', query: { name, runId: owner }, safe: true, runId: owner })
      })
    },

    readFromStream: (name: string, startIndex?: number) => readRemoteStream(lane, name, startIndex, options.maxStreamReconnects),

    async listStreamsByRunId (runId: string) {
      return (await get<{ streams: string[] }>('/v1/world/streams/list', { runId })).streams
    },

    getStreamChunks: (name: string, runId: string, options?: GetChunksOptions) =>
      get<StreamChunksResponse>('/v1/world/streams/chunks', { name, runId, cursor: options?.cursor, limit: options?.limit }, revive.streamChunks),

    getStreamInfo: (name: string, runId: string) => get<StreamInfoResponse>('/v1/world/streams/info', { name, runId }),

    /**
     * Both overloads. Only `deploymentId` leaves this process: start() passes its whole options
     * object as the context, and it may hold the World itself. Asks the worker once whether its
     * World encrypts at all, so that unencrypted Worlds cost no round trip per start.
     */
    async getEncryptionKeyForRun (runOrId: WorkflowRun | string, context?: Record<string, unknown>) {
      if (!(await worldInfo()).encryption) return undefined
      const runId = typeof runOrId === 'string' ? runOrId : runOrId.runId
      const deploymentId = typeof runOrId === 'string' ? context?.deploymentId : runOrId.deploymentId
      const { key } = await lane.call<{ key: Uint8Array | null }>({
        method: 'POST',
        path: '/v1/world/encryption-key',
        body: { runId, context: typeof deploymentId === 'string' ? { deploymentId } : {} },
        safe: true,
        runId
      })
      return key ?? undefined
    },

    /**
     * Checks the worker answers this key, and never claims a newer spec version than the
     * worker's World handles: runs are created at `specVersion`, and a World rejects every later
     * event of a run newer than itself.
     */
    async start () {
      const remote = await worldInfo()
      if (world.specVersion === undefined || remote.specVersion < world.specVersion) world.specVersion = remote.specVersion
    },

    async close () {
      const local = deliveries
      deliveries = undefined
      await (await local)?.close?.()
    }
  }
  return world
}
