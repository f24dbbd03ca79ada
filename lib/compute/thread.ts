/**
 * Entry of a deployment's thread: one realm per deployment, so two builds that share step ids
 * never share a step registry: the SDK registers step functions in one map per JS realm, keyed by
 * step id without the deployment, so two builds loaded in one realm would run each other's steps
 * (docs/architecture.md, "Execution"). It installs a World that forwards to the
 * main thread, loads the deployment's flow and step bundles, then runs the deliveries it is sent.
 */
import { basename } from 'node:path'
import { getHeapStatistics } from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import { context } from '@opentelemetry/api'
import { findBundle } from './artifacts.js'
import { EsmResolution, loadBundle } from './bundle-loader.js'
import { createForwardingWorld, type QueueMessageHandler } from './forwarding-world.js'
import {
  fromWireError, fromWireRequest, toWireError, toWireResponse,
  type DeliveryKind, type MainToThread, type ThreadData, type ThreadToMain, type TraceCarrier, type WireRequest
} from './protocol.js'
import { contextFromCarrier, currentTraceCarrier } from '../observability/tracing.js'

const port = parentPort!
const data = workerData as ThreadData
const post = (message: ThreadToMain): void => port.postMessage(message)

const pendingCalls = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
let nextCallId = 1

function callMain (method: string, args: unknown[]): Promise<unknown> {
  const id = nextCallId++
  return new Promise((resolve, reject) => {
    pendingCalls.set(id, { resolve, reject })
    try {
      post({ type: 'world-call', id, method, args, trace: data.tracing ? currentTraceCarrier() : undefined })
    } catch (error) {
      pendingCalls.delete(id)
      reject(error instanceof Error ? error : new Error(String(error)))
    }
  })
}

// The bundles create their queue handlers at import time; each bundle's own is the one we run.
let capturing: Map<DeliveryKind, QueueMessageHandler> | undefined
const world = createForwardingWorld({
  deploymentId: data.deploymentId,
  methods: data.worldMethods,
  specVersion: data.specVersion,
  streamFlushIntervalMs: data.streamFlushIntervalMs,
  call: callMain,
  onQueueHandler: (kind, handler) => { capturing?.set(kind, handler) }
})
// What the SDK's setWorld() writes; the bundles carry their own SDK copy but read these keys.
const realm = globalThis as Record<symbol, unknown>
realm[Symbol.for('@workflow/world//cache')] = world
realm[Symbol.for('@workflow/world//stubbedCache')] = world

const esm = new EsmResolution(data.dir, data.resolveFallbackUrl)
const handlers = new Map<DeliveryKind, QueueMessageHandler>()

async function loadQueueHandler (bundle: 'flow' | 'step', kind: DeliveryKind): Promise<void> {
  const file = findBundle(data.dir, bundle)
  if (file === undefined) return
  const captured = new Map<DeliveryKind, QueueMessageHandler>()
  capturing = captured
  try {
    await loadBundle(file, esm)
  } finally {
    capturing = undefined
  }
  const handler = captured.get(kind)
  if (handler === undefined) throw new Error(`${basename(file)} created no ${kind} queue handler (is it a Workflow SDK build?)`)
  handlers.set(kind, handler)
}

let webhook: Promise<Record<string, unknown> | undefined> | undefined
async function serveWebhook (wire: WireRequest): Promise<Response> {
  webhook ??= (async () => {
    const file = findBundle(data.dir, 'webhook')
    return file === undefined ? undefined : await loadBundle(file, esm)
  })()
  const exports = await webhook
  if (exports === undefined) return new Response(null, { status: 404 })
  const handler = exports[wire.method] ?? exports.default
  if (typeof handler !== 'function') return new Response(null, { status: 405 })
  return await handler(fromWireRequest(wire)) as Response
}

// The delivery's span in the main thread is the parent of everything the runtime does for it here.
async function run (id: number, trace: TraceCarrier | undefined, work: () => Promise<unknown>): Promise<void> {
  try {
    const value = trace === undefined ? await work() : await context.with(contextFromCarrier(trace), work)
    post({ type: 'result', id, ok: true, value })
  } catch (error) {
    post({ type: 'result', id, ok: false, error: toWireError(error) })
  }
}

port.on('message', (message: MainToThread) => {
  switch (message.type) {
    case 'world-result': {
      const pending = pendingCalls.get(message.id)
      pendingCalls.delete(message.id)
      if (message.ok) pending?.resolve(message.value)
      else pending?.reject(fromWireError(message.error))
      break
    }
    case 'deliver':
      void run(message.id, message.trace, async () => {
        const handler = handlers.get(message.kind)
        if (handler === undefined) throw new Error(`deployment ${data.deploymentId} has no ${message.kind} bundle`)
        const result = await handler(message.message, message.meta)
        return typeof result?.timeoutSeconds === 'number' ? { timeoutSeconds: result.timeoutSeconds } : undefined
      })
      break
    case 'webhook':
      void run(message.id, message.trace, async () => await toWireResponse(await serveWebhook(message.request)))
      break
    case 'ping':
      post({ type: 'pong', id: message.id, heapUsedBytes: getHeapStatistics().used_heap_size })
      break
  }
})

// A stray rejection in deployment code is reported, not fatal: the realm keeps serving its runs.
// Uncaught exceptions still end the thread, and the main thread restarts it on the next delivery.
process.on('unhandledRejection', (reason) => {
  post({ type: 'log', level: 'error', message: 'unhandled rejection in deployment code', error: toWireError(reason) })
})

try {
  if (data.tracing) {
    const { startThreadTracing } = await import('../observability/thread-tracing.js')
    startThreadTracing((spans) => post({ type: 'spans', spans }))
    // The bundles import @opentelemetry/api by bare name; from the artifact folder it resolves
    // to the worker's copy, whose global provider is the one just registered.
    esm.resolveBareImportsFromWorker()
  }
  await loadQueueHandler('flow', 'workflow')
  await loadQueueHandler('step', 'step')
  post({ type: 'ready' })
} catch (error) {
  post({ type: 'load-failed', error: toWireError(error) })
}
