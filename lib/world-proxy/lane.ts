import {
  SPEC_VERSION_CURRENT,
  type Event,
  type EventResult,
  type GetChunksOptions,
  type Hook,
  type ListEventsByCorrelationIdParams,
  type ListEventsParams,
  type ListHooksParams,
  type ListWorkflowRunsParams,
  type ListWorkflowRunStepsParams,
  type MessageId,
  type QueueOptions,
  type ResolveData,
  type Step,
  type StreamChunksResponse,
  type StreamInfoResponse,
  type World,
  type WorkflowRun
} from '@workflow/world'
import { RunNotSupportedError, WorkflowRunNotFoundError } from '@workflow/errors'
import { DomainError } from '../errors.js'
import { CORRELATION_HEADER } from '../headers.js'
import { worldSpecVersion } from '../world/spec-version.js'
import { absoluteStreamStart } from '../world/streams.js'
import { BoundedMap, BoundedSet } from '../bounded.js'
import { classifyWorldError, notFoundCodeOf, streamErrorEnvelope } from '../wire/world-errors.js'
import { isFirstPageCursor, isWellFormedListCursor, isWellFormedStreamCursor } from './cursors.js'
import { framesFromWorldStream, type LiveRead } from './live-read.js'
import { MAX_PAGE_SIZE } from './limits.js'
import { parseCreateEventParams, parseCreateEventRequest, parseQueueRequest, type CreateEventParamsInput } from './schemas.js'

/** The stream names the SDK's health check writes, under a made-up run id (@workflow/core runtime/helpers.js). */
const HEALTH_CHECK_STREAM_PREFIX = '__health_check__'

export interface WorldLaneOptions {
  /** How long a live read may stay silent before a PING frame; default 15 s. */
  pingIntervalMs?: number
  /** Run ids remembered as existing, to skip the orphan-event read; default 10 000. */
  knownRunsCapacity?: number
  /**
   * How long the World's "this stream is open" stays trusted before a write asks again;
   * default 1 s. "Done" answers are kept: a closed stream never reopens.
   */
  streamOpenRecheckMs?: number
}

export interface WorldInfo {
  specVersion: number
  deploymentId: string
  encryption: boolean
  resolveLatestDeployment: boolean
}

type Pagination = NonNullable<ListEventsParams['pagination']>
/** Pagination as callers send it: the cursor may be empty or null, both meaning the first page. */
type WirePagination = Omit<Pagination, 'cursor'> & { cursor?: string | null }
type WireListParams<T extends { pagination?: Pagination }> = Omit<T, 'pagination'> & { pagination?: WirePagination }

function validationError (message: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('validation_error', message, { details })
}

/**
 * world-local's steps.get and events.get throw a plain `Error("… not found")`: the not-found it
 * means, named `Error` on the wire so that a remote World throws a plain Error too (the SDK's CLI
 * prints the two differently). Every other failure passes on as the World threw it (the edge
 * reads the World's errors with the World error table).
 */
function worldFailure (error: unknown): unknown {
  if (error instanceof DomainError || !(error instanceof Error) || classifyWorldError(error) !== undefined) return error
  const notFound = notFoundCodeOf(error.message)
  return notFound === undefined ? error : new DomainError(notFound, error.message, { details: { name: 'Error' }, cause: error })
}

/**
 * The World's list parameters: a first-page cursor (empty, null) dropped, since a World of
 * someone else's need not read it as ours do; a malformed one refused (see cursors.ts); the page
 * size clamped.
 */
function checkedListParams<T extends { pagination?: Pagination }> (params: WireListParams<T>): T {
  if (params.pagination === undefined) return params as T
  const { cursor, limit, ...pagination } = params.pagination
  if (!isFirstPageCursor(cursor) && !isWellFormedListCursor(cursor)) {
    throw validationError('The pagination cursor is not one this World issued', { field: 'pagination.cursor' })
  }
  return {
    ...params,
    pagination: {
      ...pagination,
      ...(limit === undefined ? {} : { limit: Math.min(limit, MAX_PAGE_SIZE) }),
      ...(isFirstPageCursor(cursor) ? {} : { cursor })
    }
  } as T
}

/**
 * The World as the internal lane serves it: every call of the `World` interface plus the rules
 * a network boundary needs: the World's errors passed on as its classes (world-local's untyped
 * not-founds given their code), orphan events refused, malformed cursors refused, zero-length
 * chunks dropped, writes after a close refused, negative read offsets resolved once, live
 * readers tracked and released.
 */
export class WorldLane {
  readonly world: World
  readonly #pingIntervalMs: number
  readonly #knownRuns: BoundedSet<string>
  readonly #streamOpenRecheckMs: number
  /** Streams known to have their end marker (closed through this lane, or the World said so). */
  readonly #closedStreams = new BoundedSet<string>(10_000)
  /** When the World last said a stream is open. */
  readonly #openStreamsCheckedAt = new BoundedMap<string, number>(10_000)
  readonly #liveReads = new Set<LiveRead>()

  constructor (world: World, options: WorldLaneOptions = {}) {
    this.world = world
    this.#pingIntervalMs = options.pingIntervalMs ?? 15_000
    this.#knownRuns = new BoundedSet(options.knownRunsCapacity ?? 10_000)
    this.#streamOpenRecheckMs = options.streamOpenRecheckMs ?? 1000
  }

  /** Live reads currently holding a World reader. */
  get activeLiveReads (): number {
    return this.#liveReads.size
  }

  /** Runs a World call (see `worldFailure`). */
  async #call<T> (call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw worldFailure(error)
    }
  }

  async info (): Promise<WorldInfo> {
    return {
      specVersion: this.#worldSpecVersion,
      deploymentId: await this.getDeploymentId(),
      encryption: typeof this.world.getEncryptionKeyForRun === 'function',
      resolveLatestDeployment: typeof this.world.resolveLatestDeploymentId === 'function'
    }
  }

  get #worldSpecVersion (): number {
    return worldSpecVersion(this.world)
  }

  getDeploymentId (): Promise<string> {
    return this.#call(() => this.world.getDeploymentId())
  }

  async resolveLatestDeploymentId (): Promise<string> {
    const resolve = this.world.resolveLatestDeploymentId
    if (typeof resolve !== 'function') {
      throw new DomainError('not_implemented', 'This World has no notion of a latest deployment')
    }
    return await this.#call(() => resolve.call(this.world))
  }

  /**
   * world-local stores events for runs that do not exist (a `run_cancelled` or `hook_received`
   * on a made-up id). Refuse them with the runtime's own not-found error instead. Runs seen once
   * are remembered: runs are never deleted through the World interface.
   */
  async #assertRunExists (runId: string): Promise<void> {
    if (this.#knownRuns.has(runId)) return
    await this.#call(() => this.world.runs.get(runId, { resolveData: 'none' }))
    this.#knownRuns.add(runId)
  }

  async createEvent (runId: string | null, data: unknown, rawParams?: CreateEventParamsInput): Promise<EventResult> {
    const event = await this.#call(async () => parseCreateEventRequest(data))
    const params = await this.#call(async () => parseCreateEventParams(rawParams))
    if (event.eventType === 'run_created') {
      if ((event.specVersion ?? SPEC_VERSION_CURRENT) > this.#worldSpecVersion) {
        throw new RunNotSupportedError(event.specVersion ?? SPEC_VERSION_CURRENT, this.#worldSpecVersion)
      }
    } else if (runId === null || runId === '') {
      throw validationError(`runId is required for ${event.eventType} events`, { field: 'runId' })
    } else if (!(event.eventType === 'run_started' && event.eventData !== undefined)) {
      // run_started with eventData is the SDK's resilient start: it creates a missing run.
      await this.#assertRunExists(runId)
    }
    const result = await this.#call(() => this.world.events.create(runId as string, event as Parameters<World['events']['create']>[1], params))
    const createdRunId = result.run?.runId ?? result.event?.runId
    if (createdRunId !== undefined) this.#knownRuns.add(createdRunId)
    return result
  }

  getEvent (runId: string, eventId: string, resolveData?: ResolveData): Promise<Event> {
    return this.#call(() => this.world.events.get(runId, eventId, { resolveData }))
  }

  listEvents (params: WireListParams<ListEventsParams>) {
    const checked = checkedListParams<ListEventsParams>(params)
    return this.#call(() => this.world.events.list(checked))
  }

  listEventsByCorrelationId (params: WireListParams<ListEventsByCorrelationIdParams>) {
    const checked = checkedListParams<ListEventsByCorrelationIdParams>(params)
    return this.#call(() => this.world.events.listByCorrelationId(checked))
  }

  getRun (runId: string, resolveData?: ResolveData): Promise<WorkflowRun> {
    return this.#call(() => this.world.runs.get(runId, { resolveData }) as Promise<WorkflowRun>)
  }

  listRuns (params: WireListParams<ListWorkflowRunsParams>) {
    const checked = checkedListParams<ListWorkflowRunsParams>(params)
    return this.#call(() => this.world.runs.list(checked))
  }

  /** An empty runId is none, as world-local reads it: the step is looked up in every run. */
  getStep (runId: string | undefined, stepId: string, resolveData?: ResolveData): Promise<Step> {
    const owner = runId === '' ? undefined : runId
    return this.#call(() => this.world.steps.get(owner, stepId, { resolveData }) as Promise<Step>)
  }

  listSteps (params: WireListParams<ListWorkflowRunStepsParams>) {
    const checked = checkedListParams<ListWorkflowRunStepsParams>(params)
    return this.#call(() => this.world.steps.list(checked))
  }

  getHook (hookId: string, resolveData?: ResolveData): Promise<Hook> {
    return this.#call(() => this.world.hooks.get(hookId, { resolveData }))
  }

  getHookByToken (token: string, resolveData?: ResolveData): Promise<Hook> {
    return this.#call(() => this.world.hooks.getByToken(token, { resolveData }))
  }

  listHooks (params: WireListParams<ListHooksParams>) {
    const checked = checkedListParams<ListHooksParams>(params)
    return this.#call(() => this.world.hooks.list(checked))
  }

  /** Publishes a queue message; the request's correlation id travels on the delivery. */
  async queue (queueName: unknown, message: unknown, opts: QueueOptions = {}, correlationId?: string): Promise<{ messageId: MessageId | null }> {
    const request = await this.#call(async () => parseQueueRequest(queueName, message))
    const headers = correlationId === undefined ? opts.headers : { [CORRELATION_HEADER]: correlationId, ...opts.headers }
    return await this.#call(() => this.world.queue(request.queueName, request.message, { ...opts, headers }))
  }

  async #assertStreamOwner (name: string, runId: string): Promise<void> {
    if (!name.startsWith(HEALTH_CHECK_STREAM_PREFIX)) await this.#assertRunExists(runId)
  }

  /**
   * Appends chunks in order. Zero-length chunks are dropped: live reads number chunks by what
   * `readFromStream` yields, and world-local skips empty ones there while counting them elsewhere.
   */
  async writeToStream (name: string, runId: string, chunks: Array<string | Uint8Array>): Promise<void> {
    await this.#assertStreamOwner(name, runId)
    if (await this.#isStreamClosed(name, runId)) {
      throw new DomainError('stream_closed', `Stream ${name} is closed`)
    }
    const nonEmpty = chunks.filter((chunk) => chunk.length > 0)
    if (nonEmpty.length === 0) return
    const { world } = this
    await this.#call(() => nonEmpty.length === 1 || typeof world.writeToStreamMulti !== 'function'
      ? writeSequentially(world, name, runId, nonEmpty)
      : world.writeToStreamMulti(name, runId, nonEmpty))
  }

  /**
   * Streams are also closed without this lane: by executor threads (they call the World
   * directly), by an earlier process, by another worker on the same World. The World keeps
   * appending after its end marker, data no reader ever sees, so the lane asks it. world-local's
   * getStreamInfo lists every chunk file, hence "open" answers are trusted for a while and
   * "done" answers for good (a stream never reopens).
   */
  async #isStreamClosed (name: string, runId: string): Promise<boolean> {
    if (this.#closedStreams.has(name)) return true
    const checkedAt = this.#openStreamsCheckedAt.get(name)
    if (checkedAt !== undefined && Date.now() - checkedAt < this.#streamOpenRecheckMs) return false
    const { done } = await this.#call(() => this.world.getStreamInfo(name, runId))
    if (done) {
      this.#closedStreams.add(name)
      this.#openStreamsCheckedAt.delete(name)
    } else {
      this.#openStreamsCheckedAt.set(name, Date.now())
    }
    return done
  }

  /** Idempotent: a second close of a stream known closed is a no-op. */
  async closeStream (name: string, runId: string): Promise<void> {
    if (this.#closedStreams.has(name)) return
    await this.#assertStreamOwner(name, runId)
    await this.#call(() => this.world.closeStream(name, runId))
    this.#closedStreams.add(name)
    this.#openStreamsCheckedAt.delete(name)
  }

  listStreams (runId: string): Promise<string[]> {
    return this.#call(() => this.world.listStreamsByRunId(runId))
  }

  /** Cursor and page size as a list's (see checkedListParams). */
  getStreamChunks (name: string, runId: string, { cursor, limit }: GetChunksOptions): Promise<StreamChunksResponse> {
    if (!isFirstPageCursor(cursor) && !isWellFormedStreamCursor(cursor)) {
      throw validationError('The stream cursor is not one this World issued', { field: 'cursor' })
    }
    const options: GetChunksOptions = {
      ...(isFirstPageCursor(cursor) ? {} : { cursor }),
      ...(limit === undefined ? {} : { limit: Math.min(limit, MAX_PAGE_SIZE) })
    }
    return this.#call(() => this.world.getStreamChunks(name, runId, options))
  }

  getStreamInfo (name: string, runId: string): Promise<StreamInfoResponse> {
    return this.#call(() => this.world.getStreamInfo(name, runId))
  }

  /** Opens a live read; frames carry absolute indices, so a negative start is resolved first. */
  async openLiveRead (name: string, startIndex: number, runId = ''): Promise<{ startIndex: number, frames: ReadableStream<Uint8Array> }> {
    const absoluteStart = await this.#call(() => absoluteStreamStart(this.world, name, runId, startIndex))
    const source = await this.#call(() => this.world.readFromStream(name, absoluteStart))
    const read: LiveRead = framesFromWorldStream(source, {
      startIndex: absoluteStart,
      pingIntervalMs: this.#pingIntervalMs,
      describeError: streamErrorEnvelope,
      onRelease: () => { this.#liveReads.delete(read) }
    })
    this.#liveReads.add(read)
    return { startIndex: absoluteStart, frames: read.frames }
  }

  /** Ends every live read (the worker is closing; open bodies would hold the server open). */
  stopLiveReads (): void {
    for (const read of [...this.#liveReads]) read.stop()
  }

  /**
   * The run's data key. Taken from the stored run when it exists, so a caller cannot obtain the
   * key of another deployment by naming it; the caller's deploymentId only serves before the
   * run is stored (start() asks for the key before run_created lands).
   */
  async getEncryptionKey (runId: string, deploymentId?: string): Promise<Uint8Array | null> {
    const getKey = this.world.getEncryptionKeyForRun
    if (typeof getKey !== 'function') return null
    const run = await this.world.runs.get(runId, { resolveData: 'none' }).catch((error: unknown) => {
      if (WorkflowRunNotFoundError.is(error)) return undefined
      throw worldFailure(error)
    })
    const keyForRun = getKey as (this: World, run: WorkflowRun) => Promise<Uint8Array | undefined>
    const keyForRunId = getKey as (this: World, runId: string, context?: Record<string, unknown>) => Promise<Uint8Array | undefined>
    const key = run !== undefined
      ? await this.#call(() => keyForRun.call(this.world, run as WorkflowRun))
      : await this.#call(async () => keyForRunId.call(this.world, runId, { deploymentId: deploymentId ?? await this.world.getDeploymentId() }))
    return key ?? null
  }
}

async function writeSequentially (world: World, name: string, runId: string, chunks: Array<string | Uint8Array>): Promise<void> {
  for (const chunk of chunks) await world.writeToStream(name, runId, chunk)
}
