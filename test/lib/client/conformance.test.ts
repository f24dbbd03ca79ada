import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import {
  EntityConflictError,
  HookConflictError,
  HookNotFoundError,
  PreconditionFailedError,
  RunExpiredError,
  RunNotSupportedError,
  ThrottleError,
  TooEarlyError,
  WorkflowRunNotFoundError,
  WorkflowWorldError
} from '@workflow/errors'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { createRemoteWorld } from '../../../lib/client/index.js'
import type { WireEncoding } from '../../../lib/wire/codec.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { KEYS, SEED_KEYS, tempDir } from '../../helper.js'

/**
 * The conformance suite: one scenario of World calls, run on world-local itself and on
 * world-local behind the worker through createRemoteWorld (CBOR and tagged JSON). Outcomes are
 * compared after normalizing what must differ between two stores: generated ids, timestamps.
 * Errors compare by the World class the runtime recognizes (`.is()`), else by whether they are a
 * plain `Error` (world-local's "… not found") or a `WorkflowWorldError`, and by message: the SDK's
 * CLI prints the two differently.
 */
const NAMED_ERRORS = [
  WorkflowRunNotFoundError, HookNotFoundError, HookConflictError, EntityConflictError, RunExpiredError,
  TooEarlyError, ThrottleError, PreconditionFailedError, RunNotSupportedError
]

function classify (error: unknown): Record<string, unknown> {
  const named = NAMED_ERRORS.find((errorClass) => errorClass.is(error))
  const kind = named?.name ?? (error instanceof Error && error.constructor === Error ? 'Error' : WorkflowWorldError.is(error) ? 'WorkflowWorldError' : 'other')
  return { error: kind, message: (error as Error).message, retryAfter: typeof (error as TooEarlyError).retryAfter === 'number' }
}

const GENERATED_ID = /\b(wrun|evnt|chnk|msg)_[0-9A-HJKMNP-TV-Z]{26}\b/g
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\b/g

function normalize (value: unknown, ids: Map<string, string>): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '<invalid date>' : '<date>'
  // The constructor is kept: a Buffer where world-local gives a Uint8Array is a difference.
  if (value instanceof Uint8Array) return { [value.constructor.name]: Array.from(value) }
  if (typeof value === 'string') {
    return value
      .replace(GENERATED_ID, (id) => { if (!ids.has(id)) ids.set(id, `<id${ids.size + 1}>`); return ids.get(id)! })
      .replace(ISO_TIME, '<time>')
  }
  if (Array.isArray(value)) return value.map((item) => normalize(item, ids))
  if (value !== null && typeof value === 'object') {
    // Keys holding undefined are dropped: JSON cannot carry them, and consumers treat them as absent.
    return Object.fromEntries(Object.keys(value).sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => [key, normalize((value as Record<string, unknown>)[key], ids)]))
  }
  return value
}

async function readAll (stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk)
  return chunks
}

const bytes = (...values: number[]) => new Uint8Array(values)

/** Every World call the runtime and its tooling make, with their awkward cases. */
async function scenario (world: World): Promise<Record<string, unknown>> {
  const outcomes: Record<string, unknown> = {}
  const step = async (name: string, call: () => Promise<unknown>) => {
    try {
      outcomes[name] = await call()
    } catch (error) {
      outcomes[name] = classify(error)
    }
    return outcomes[name] as any
  }

  const workflowName = 'workflow//./workflows/demo//conformance'
  const created = await step('run_created', () => world.events.create(null, {
    eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'dpl_c', workflowName, input: bytes(100, 101, 118, 108, 1), executionContext: { a: 1 } }
  }))
  const runId: string = created.run.runId
  await step('run_created again', () => world.events.create(runId, {
    eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'dpl_c', workflowName, input: bytes(1) }
  }))
  await step('runs.get pending', () => world.runs.get(runId))
  await step('run_started', () => world.events.create(runId, { eventType: 'run_started', specVersion: 3 }))
  await step('run_started on a running run', () => world.events.create(runId, { eventType: 'run_started', specVersion: 3 }))
  await step('runs.get none', () => world.runs.get(runId, { resolveData: 'none' }))

  await step('step_created', () => world.events.create(runId, {
    eventType: 'step_created', specVersion: 3, correlationId: 'step_01', eventData: { stepName: 'step//./demo//add', input: bytes(1, 2, 3) }
  }))
  await step('step_started', () => world.events.create(runId, { eventType: 'step_started', specVersion: 3, correlationId: 'step_01' }))
  await step('step_retrying', () => world.events.create(runId, {
    eventType: 'step_retrying', specVersion: 3, correlationId: 'step_01', eventData: { error: { message: 'flaky' }, retryAfter: new Date(Date.now() + 60_000) }
  }))
  await step('step_started too early', () => world.events.create(runId, { eventType: 'step_started', specVersion: 3, correlationId: 'step_01' }))
  await step('steps.get', () => world.steps.get(runId, 'step_01'))
  await step('step_completed on a pending step', () => world.events.create(runId, {
    eventType: 'step_completed', specVersion: 3, correlationId: 'step_01', eventData: { result: bytes(6) }
  }))
  await step('step_started after completion', () => world.events.create(runId, { eventType: 'step_started', specVersion: 3, correlationId: 'step_01' }))
  await step('steps.get none', () => world.steps.get(runId, 'step_01', { resolveData: 'none' }))
  await step('steps.get missing', () => world.steps.get(runId, 'step_missing'))
  await step('steps.list', () => world.steps.list({ runId }))
  await step('step_completed of a missing step', () => world.events.create(runId, {
    eventType: 'step_completed', specVersion: 3, correlationId: 'step_missing', eventData: { result: bytes(1) }
  }))

  await step('wait_created', () => world.events.create(runId, {
    eventType: 'wait_created', specVersion: 3, correlationId: 'wait_01', eventData: { resumeAt: new Date(Date.UTC(2030, 0, 1)) }
  }))
  await step('wait_completed', () => world.events.create(runId, { eventType: 'wait_completed', specVersion: 3, correlationId: 'wait_01' }))
  await step('wait_completed twice', () => world.events.create(runId, { eventType: 'wait_completed', specVersion: 3, correlationId: 'wait_01' }))

  await step('hook_created', () => world.events.create(runId, {
    eventType: 'hook_created', specVersion: 3, correlationId: 'hook_01', eventData: { token: 'conformance:token', metadata: bytes(9), isWebhook: false }
  }))
  await step('hooks.get', () => world.hooks.get('hook_01'))
  await step('hooks.getByToken', () => world.hooks.getByToken('conformance:token'))
  await step('hooks.getByToken none', () => world.hooks.getByToken('conformance:token', { resolveData: 'none' }))
  await step('hooks.list', () => world.hooks.list({ runId }))
  await step('hooks.getByToken missing', () => world.hooks.getByToken('nobody'))
  await step('hook_received', () => world.events.create(runId, {
    eventType: 'hook_received', specVersion: 3, correlationId: 'hook_01', eventData: { token: 'conformance:token', payload: bytes(4, 2) }
  }))
  await step('hook_received for a missing hook', () => world.events.create(runId, {
    eventType: 'hook_received', specVersion: 3, correlationId: 'hook_missing', eventData: { payload: bytes(1) }
  }))

  const other = await step('second run', () => world.events.create(null, {
    eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'dpl_c', workflowName, input: bytes(2) }
  }))
  await world.events.create(other.run.runId, { eventType: 'run_started', specVersion: 3 })
  await step('hook token taken', () => world.events.create(other.run.runId, {
    eventType: 'hook_created', specVersion: 3, correlationId: 'hook_02', eventData: { token: 'conformance:token' }
  }))

  const firstPage = await step('events.list page 1', () => world.events.list({ runId, pagination: { limit: 4, sortOrder: 'asc' } }))
  await step('events.list page 2', () => world.events.list({ runId, pagination: { limit: 4, sortOrder: 'asc', cursor: firstPage.cursor } }))
  await step('events.list none desc', () => world.events.list({ runId, pagination: { sortOrder: 'desc' }, resolveData: 'none' }))
  await step('events.listByCorrelationId', () => world.events.listByCorrelationId({ correlationId: 'step_01', runId }))
  await step('events.get', () => world.events.get(runId, firstPage.data[0].eventId))
  await step('events.get missing', () => world.events.get(runId, 'evnt_01J00000000000000000000000'))

  await step('writeToStream', () => world.writeToStream('strm_conformance', runId, 'one'))
  await step('writeToStreamMulti', () => world.writeToStreamMulti!('strm_conformance', runId, [bytes(2, 2), 'three', bytes(4)]))
  await step('getStreamInfo open', () => world.getStreamInfo('strm_conformance', runId))
  const chunkPage = await step('getStreamChunks page 1', () => world.getStreamChunks('strm_conformance', runId, { limit: 2 }))
  await step('getStreamChunks page 2', () => world.getStreamChunks('strm_conformance', runId, { limit: 2, cursor: chunkPage.cursor }))
  await step('closeStream', () => world.closeStream('strm_conformance', runId))
  await step('getStreamInfo closed', () => world.getStreamInfo('strm_conformance', runId))
  await step('readFromStream', async () => readAll(await world.readFromStream('strm_conformance')))
  await step('readFromStream from 1', async () => readAll(await world.readFromStream('strm_conformance', 1)))
  await step('readFromStream last 2', async () => readAll(await world.readFromStream('strm_conformance', -2)))
  await step('listStreamsByRunId', () => world.listStreamsByRunId(runId))
  await step('listStreamsByRunId unknown', () => world.listStreamsByRunId('wrun_01J00000000000000000000000'))

  await step('run_completed', () => world.events.create(runId, { eventType: 'run_completed', specVersion: 3, eventData: { output: bytes(7, 7) } }))
  await step('runs.get completed', () => world.runs.get(runId))
  await step('hook disposed with its run', () => world.hooks.getByToken('conformance:token'))
  await step('run_cancelled after completion', () => world.events.create(runId, { eventType: 'run_cancelled', specVersion: 3 }))
  await step('run_started after completion', () => world.events.create(runId, { eventType: 'run_started', specVersion: 3 }))
  await step('run_failed second run', () => world.events.create(other.run.runId, {
    eventType: 'run_failed', specVersion: 3, eventData: { error: { message: 'boom', stack: 'at x' }, errorCode: 'USER_ERROR' }
  }))
  await step('runs.list', () => world.runs.list({ workflowName }))
  // As the SDK's CLI sends them (`wf inspect`): its --cursor and -n flags default to the empty string.
  await step('runs.list, the CLI\'s empty cursor and workflow name', () => world.runs.list({
    workflowName: '', status: undefined, pagination: { sortOrder: 'asc', cursor: '', limit: 20 }, resolveData: 'none'
  }))
  await step('steps.list, an empty cursor', () => world.steps.list({ runId, pagination: { sortOrder: 'desc', cursor: '', limit: 20 }, resolveData: 'all' }))
  await step('events.list, an empty cursor', () => world.events.list({ runId, pagination: { sortOrder: 'desc', cursor: '', limit: 3 }, resolveData: 'none' }))
  await step('events.listByCorrelationId, an empty cursor', () => world.events.listByCorrelationId({ correlationId: 'step_01', pagination: { cursor: '' } }))
  await step('hooks.list, every run, an empty cursor', () => world.hooks.list({ runId: undefined, pagination: { sortOrder: 'desc', cursor: '', limit: 20 } }))
  await step('hooks.list, an empty run id', () => world.hooks.list({ runId: '', pagination: {} }))
  await step('steps.get, an empty run id', () => world.steps.get('', 'step_01'))
  await step('getStreamChunks, an empty cursor, a limit past 1000', () => world.getStreamChunks('strm_conformance', runId, { cursor: '', limit: 5000 }))
  await step('runs.list failed none', () => world.runs.list({ status: 'failed', resolveData: 'none' }))
  await step('runs.get missing', () => world.runs.get('wrun_01J00000000000000000000000'))
  await step('getDeploymentId', () => world.getDeploymentId())
  return outcomes
}

async function remoteWorld (t: TestContext, encoding: WireEncoding): Promise<World> {
  const dir = await tempDir(t)
  const worker = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }), sqlitePath: join(dir, 'w.db'), seedApiKeys: SEED_KEYS, port: 0
  })
  t.after(() => worker.close())
  return createRemoteWorld({ baseUrl: worker.url, apiKey: KEYS.worldProxy, encoding })
}

test('world-local directly and through createRemoteWorld (CBOR and tagged JSON) give identical results', async (t) => {
  const local = createLocalWorld({ dataDir: join(await tempDir(t), 'world') })
  t.after(() => local.close?.())
  const expected = normalize(await scenario(local), new Map()) as Record<string, unknown>

  // The scenario is only worth comparing if it reached the cases it is about.
  assert.equal((expected['run_started on a running run'] as any).event, undefined)
  assert.equal((expected['hook token taken'] as any).event.eventType, 'hook_conflict')
  assert.equal((expected['step_started too early'] as any).error, 'TooEarlyError')
  assert.equal((expected['steps.get missing'] as any).error, 'Error')
  assert.equal((expected['runs.list, the CLI\'s empty cursor and workflow name'] as any).data.length, 2)
  assert.deepEqual(expected['readFromStream last 2'], [{ Uint8Array: [116, 104, 114, 101, 101] }, { Uint8Array: [4] }])

  for (const encoding of ['cbor', 'json'] as const) {
    const actual = normalize(await scenario(await remoteWorld(t, encoding)), new Map()) as Record<string, unknown>
    for (const name of Object.keys(expected)) assert.deepStrictEqual(actual[name], expected[name], `${encoding}: ${name}`)
    assert.deepStrictEqual(Object.keys(actual), Object.keys(expected))
  }
})
