import { performance } from 'node:perf_hooks'
import type { EventResult, World } from '@workflow/world'
import { FORWARDED_WORLD_METHODS } from '../compute/protocol.js'
import type { WorkerMetrics } from './metrics.js'

type AnyFunction = (...args: unknown[]) => unknown

const FINISHED_RUN: Record<string, string> = { run_completed: 'completed', run_failed: 'failed', run_cancelled: 'cancelled' }
const FINISHED_STEP: Record<string, string> = { step_completed: 'completed', step_failed: 'failed' }

function secondsBetween (from: Date | undefined, to: Date | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined
  const ms = new Date(to).getTime() - new Date(from).getTime()
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined
}

/**
 * Runs and steps are counted where every runtime records them: the World's `events.create`,
 * whoever calls it (a deployment thread, a remote runtime through the internal lane, a cancel).
 * Each worker counts the events made through its own World, so several workers never count one twice.
 */
function countEvent (metrics: WorkerMetrics, data: unknown, result: EventResult | undefined): void {
  const eventType = (data as { eventType?: unknown } | null)?.eventType
  if (typeof eventType !== 'string' || result === undefined) return
  const { run, step } = result
  if (eventType === 'run_started') {
    // The runtime sends run_started on every replay; only a pending → running transition records an event.
    if (run !== undefined && result.event !== undefined) metrics.runStarted(run.workflowName)
  } else if (FINISHED_RUN[eventType] !== undefined) {
    if (run !== undefined) metrics.runFinished(run.workflowName, FINISHED_RUN[eventType], secondsBetween(run.createdAt, run.completedAt))
  } else if (step !== undefined) {
    if (eventType === 'step_started') metrics.stepAttempt(step.stepName)
    else if (eventType === 'step_retrying') metrics.stepRetry(step.stepName)
    else if (FINISHED_STEP[eventType] !== undefined) {
      metrics.stepFinished(step.stepName, FINISHED_STEP[eventType], secondsBetween(step.startedAt, step.completedAt))
    }
  }
}

function measured (metrics: WorkerMetrics, path: string, call: AnyFunction): AnyFunction {
  return async (...args: unknown[]) => {
    const started = performance.now()
    let result: unknown
    try {
      result = await call(...args)
    } catch (error) {
      metrics.worldCall(path, 'error', (performance.now() - started) / 1000)
      throw error
    }
    metrics.worldCall(path, 'ok', (performance.now() - started) / 1000)
    if (path === 'events.create') countEvent(metrics, args[1], result as EventResult | undefined)
    return result
  }
}

/**
 * The World as the worker uses it when metrics are on: the same object (every other member, the
 * queue handlers, `start` and `close` pass through untouched) whose data calls are timed and whose
 * run and step events are counted.
 */
export function measureWorld (world: World, metrics: WorkerMetrics): World {
  const replaced = new Map<string, unknown>()
  const members = new Map<string, Map<string, AnyFunction>>()
  for (const path of FORWARDED_WORLD_METHODS) {
    const [head, member] = path.split('.')
    const owner = (): Record<string, AnyFunction> | undefined =>
      (member === undefined ? world : (world as unknown as Record<string, unknown>)[head]) as Record<string, AnyFunction> | undefined
    if (typeof owner()?.[member ?? head] !== 'function') continue
    // Looked up at each call: whoever replaces a World method later (tests inject faults so) is still measured.
    const wrapped = measured(metrics, path, (...args) => owner()![member ?? head](...args))
    if (member === undefined) replaced.set(head, wrapped)
    else {
      if (!members.has(head)) members.set(head, new Map())
      members.get(head)!.set(member, wrapped)
    }
  }
  for (const [head, wrappedMembers] of members) {
    const group = (world as unknown as Record<string, object>)[head]
    replaced.set(head, new Proxy(group, {
      get: (target, prop, receiver) => (typeof prop === 'string' ? wrappedMembers.get(prop) : undefined) ?? Reflect.get(target, prop, receiver)
    }))
  }
  return new Proxy(world, {
    get: (target, prop, receiver) => (typeof prop === 'string' ? replaced.get(prop) : undefined) ?? Reflect.get(target, prop, receiver)
  })
}
