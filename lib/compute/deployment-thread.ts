import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { Worker, type ResourceLimits, type Transferable } from 'node:worker_threads'
import { context } from '@opentelemetry/api'
import type { World } from '@workflow/world'
import { BoundedSet } from '../bounded.js'
import { redactText } from '../logging.js'
import { threadSpanSink } from '../observability/thread-spans.js'
import { contextFromCarrier } from '../observability/tracing.js'
import {
  FORWARDED_WORLD_METHODS, fromWireError, toWireError,
  type DeliveryKind, type DeliveryMeta, type DeliveryResult, type MainToThread,
  type ThreadData, type ThreadToMain, type TraceCarrier, type WireRequest, type WireResponse
} from './protocol.js'

/** An executor-side failure: the message never reached the deployment's SDK runtime. */
export class DeploymentUnavailableError extends Error {
  readonly deploymentId: string
  constructor (deploymentId: string, reason: string, options?: { cause?: unknown }) {
    super(`deployment ${deploymentId} is unavailable: ${reason}`, options)
    this.name = 'DeploymentUnavailableError'
    this.deploymentId = deploymentId
  }
}

export interface DeploymentThreadOptions {
  deploymentId: string
  dir: string
  world: World
  resourceLimits: ResourceLimits
  log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void
  /** Called once when the thread is gone (crash, exit, terminate). */
  onExit: (thread: DeploymentThread) => void
}

const THREAD_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./thread.ts', import.meta.url)
  : new URL('./thread.js', import.meta.url)

function spawn (data: ThreadData, resourceLimits: ResourceLimits): Worker {
  // The thread's console output is read here (see DeploymentThread.#relayOutput), not passed through.
  const options = { workerData: data, resourceLimits, stdout: true, stderr: true }
  if (THREAD_ENTRY.pathname.endsWith('.ts')) {
    // Running from sources (tests, bench): a thread does not inherit the TypeScript loader.
    const tsx = import.meta.resolve('tsx/esm/api')
    const source = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_ENTRY.href)}) })`
    return new Worker(source, { ...options, eval: true })
  }
  return new Worker(THREAD_ENTRY, options)
}

function worldMethods (world: World): string[] {
  return FORWARDED_WORLD_METHODS.filter((path) => {
    const [head, member] = path.split('.')
    const owner = (member === undefined ? world : (world as unknown as Record<string, unknown>)[head]) as Record<string, unknown> | undefined
    return typeof owner?.[member ?? head] === 'function'
  })
}

/** What a thread's health check found: still loading, its event loop answered, or it did not in time. */
export type ThreadState = 'loading' | 'answering' | 'unresponsive'

/**
 * The main thread's side of one deployment's thread: sends it deliveries and webhook requests,
 * serves the World calls it makes, and fails whatever is in flight when it dies.
 */
export class DeploymentThread {
  readonly deploymentId: string
  /** Resolves once both bundles are loaded; rejects when loading fails or the thread dies first. */
  readonly ready: Promise<void>
  lastActiveAt = Date.now()
  /** The thread's V8 heap in use, as its last answer to a check reported it. */
  heapUsedBytes: number | undefined
  private readonly worker: Worker
  private readonly world: World
  private readonly allowed: Set<string>
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
  // Kept apart from `pending`: a health check must not make the thread look busy (or keep it loaded).
  private readonly pings = new Map<number, () => void>()
  private checking: Promise<ThreadState> | undefined
  private nextId = 1
  private worldCallsInFlight = 0
  private loading = true
  private exited = false
  /** Hook tokens of the webhook requests this thread served: its output never shows them. */
  readonly #secrets = new BoundedSet<string>(1000)

  constructor (private readonly options: DeploymentThreadOptions) {
    this.deploymentId = options.deploymentId
    this.world = options.world
    const methods = worldMethods(options.world)
    this.allowed = new Set(methods)
    this.worker = spawn({
      deploymentId: options.deploymentId,
      dir: options.dir,
      worldMethods: methods,
      specVersion: options.world.specVersion,
      streamFlushIntervalMs: options.world.streamFlushIntervalMs,
      resolveFallbackUrl: import.meta.url,
      tracing: threadSpanSink() !== undefined
    }, options.resourceLimits)

    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: ThreadToMain) => {
        if (message.type === 'ready') resolve()
        else if (message.type === 'pong') {
          this.heapUsedBytes = message.heapUsedBytes
          this.pings.get(message.id)?.()
        } else if (message.type === 'load-failed') reject(new DeploymentUnavailableError(this.deploymentId, 'its code failed to load', { cause: fromWireError(message.error) }))
        else this.receive(message)
      })
      this.worker.once('exit', (code) => {
        this.exited = true
        const error = new DeploymentUnavailableError(this.deploymentId, `its thread exited (code ${code})`)
        reject(error)
        for (const { reject: fail } of this.pending.values()) fail(error)
        this.pending.clear()
        for (const answer of this.pings.values()) answer()
        options.onExit(this)
      })
    })
    this.ready.then(() => { this.loading = false }, () => { this.loading = false })
    this.worker.on('error', (error) => {
      options.log('error', 'deployment thread crashed', { deploymentId: this.deploymentId, err: error })
    })
    this.#relayOutput(this.worker.stdout, 'stdout', 'info')
    this.#relayOutput(this.worker.stderr, 'stderr', 'warn')
  }

  /**
   * Deployment code writes to its console whatever it likes; the SDK's own webhook handler
   * writes the error of a refused token, token included. Each line reaches the worker's log,
   * tagged with the deployment, with the tokens of its webhook requests and URL secrets redacted.
   */
  #relayOutput (output: Readable, stream: 'stdout' | 'stderr', level: 'info' | 'warn'): void {
    createInterface({ input: output, crlfDelay: Infinity }).on('line', (line) => {
      this.options.log(level, redactText(line, this.#secrets), { deploymentId: this.deploymentId, stream })
    })
  }

  /** True while loading, or while a delivery, a webhook or a World call is in progress. */
  get busy (): boolean {
    return this.loading || this.pending.size > 0 || this.worldCallsInFlight > 0
  }

  get alive (): boolean {
    return !this.exited
  }

  /** `trace`: the delivery's own trace context, parent of the runtime's spans in the thread. */
  async deliver (kind: DeliveryKind, message: unknown, meta: DeliveryMeta, trace?: TraceCarrier): Promise<DeliveryResult> {
    return await this.request((id) => ({ type: 'deliver', id, kind, message, meta, trace })) as DeliveryResult
  }

  async webhook (request: WireRequest, token: string, trace?: TraceCarrier): Promise<WireResponse> {
    this.#secrets.add(token)
    return await this.request((id) => ({ type: 'webhook', id, request, trace }), request.body === null ? [] : [request.body]) as WireResponse
  }

  /**
   * Whether the thread's event loop answers within `timeoutMs`. A thread busy with synchronous
   * deployment code (or past its heap limit, about to be ended) does not.
   */
  async check (timeoutMs: number): Promise<ThreadState> {
    if (this.loading) return 'loading'
    if (this.exited) return 'unresponsive'
    // Readiness is public and not rate limited: concurrent probes share one ping.
    this.checking ??= this.ping(timeoutMs).finally(() => { this.checking = undefined })
    return await this.checking
  }

  private async ping (timeoutMs: number): Promise<ThreadState> {
    const id = this.nextId++
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.pings.set(id, () => { clearTimeout(timer); resolve(!this.exited) })
      this.worker.postMessage({ type: 'ping', id } satisfies MainToThread)
    })
    this.pings.delete(id)
    return answered ? 'answering' : 'unresponsive'
  }

  /** Deliveries and webhook requests the thread is running. */
  get inFlight (): number {
    return this.pending.size
  }

  async terminate (): Promise<void> {
    if (!this.exited) await this.worker.terminate()
  }

  private async request (build: (id: number) => MainToThread, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.exited) throw new DeploymentUnavailableError(this.deploymentId, 'its thread has exited')
    const id = this.nextId++
    this.lastActiveAt = Date.now()
    try {
      return await new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject })
        this.worker.postMessage(build(id), transfer)
      })
    } finally {
      this.pending.delete(id)
      this.lastActiveAt = Date.now()
    }
  }

  private receive (message: ThreadToMain): void {
    switch (message.type) {
      case 'result': {
        const pending = this.pending.get(message.id)
        if (message.ok) pending?.resolve(message.value)
        else pending?.reject(fromWireError(message.error))
        break
      }
      case 'world-call':
        // In the trace context of the thread's caller: the World's own spans (world-local's) join its trace.
        if (message.trace === undefined) void this.serveWorldCall(message.id, message.method, message.args)
        else void context.with(contextFromCarrier(message.trace), async () => await this.serveWorldCall(message.id, message.method, message.args))
        break
      case 'spans':
        threadSpanSink()?.(message.spans)
        break
      case 'log':
        this.options.log(message.level, message.message, {
          deploymentId: this.deploymentId,
          ...(message.error === undefined ? {} : { err: fromWireError(message.error) })
        })
        break
    }
  }

  private async serveWorldCall (id: number, method: string, args: unknown[]): Promise<void> {
    this.worldCallsInFlight++
    let reply: MainToThread
    let transfer: Transferable[] = []
    try {
      if (!this.allowed.has(method)) throw new Error(`World member ${method} is not available to deployments`)
      const [head, member] = method.split('.')
      const owner = (member === undefined ? this.world : (this.world as unknown as Record<string, unknown>)[head]) as Record<string, (...a: unknown[]) => unknown>
      const value = await owner[member ?? head](...args)
      // Stream reads hand the thread the World's own ReadableStream (transferable).
      if (value instanceof ReadableStream) transfer = [value as unknown as Transferable]
      reply = { type: 'world-result', id, ok: true, value }
    } catch (error) {
      reply = { type: 'world-result', id, ok: false, error: toWireError(error) }
    } finally {
      this.worldCallsInFlight--
      this.lastActiveAt = Date.now()
    }
    if (this.exited) return
    try {
      this.worker.postMessage(reply, transfer)
    } catch (error) {
      this.worker.postMessage({ type: 'world-result', id, ok: false, error: toWireError(error) } satisfies MainToThread)
    }
  }
}
