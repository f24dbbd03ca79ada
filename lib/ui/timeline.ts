import type { Run, RunEvent } from '../schemas/runs.js'
import { shortName } from './format.js'

export type SpanKind = 'step' | 'sleep' | 'hook'
export type SpanOutcome = 'completed' | 'failed' | 'running' | 'waiting' | 'received' | 'cancelled' | 'unfinished'

/** One step, sleep or hook of a run: when it began and ended, and what happened in between. */
export interface TimelineSpan {
  id: string
  kind: SpanKind
  label: string
  /** Full name (the step's id), for a tooltip. */
  title: string
  start: number
  /** Undefined while it goes on. */
  end: number | undefined
  outcome: SpanOutcome
  /** Each attempt of a step (`step_started`), with its number. */
  attempts: Array<{ at: number, attempt: number }>
  /** Each retry a step asked for (`step_retrying`): when, and why. */
  retries: Array<{ at: number, message: string | undefined }>
  /** Payloads a hook received. */
  received: number[]
  error: string | undefined
}

export interface Timeline {
  /** Milliseconds since the epoch of the run's creation: offset 0. */
  start: number
  /** The run's end, or `now` while it goes on. */
  end: number
  spans: TimelineSpan[]
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled'])

function errorMessage (data: Record<string, unknown> | undefined): string | undefined {
  const error = data?.error as { message?: unknown } | undefined
  return typeof error?.message === 'string' ? error.message : undefined
}

/**
 * A run's events folded into spans, one per step, sleep and hook (their events share a
 * correlation id), in the order they began. What is still open is drawn up to `now`; what was
 * left open by a finished run ends with it.
 */
export function buildTimeline (run: Run, events: RunEvent[], now: number): Timeline {
  const start = Date.parse(run.createdAt)
  const finished = TERMINAL.has(run.status)
  const end = finished ? Date.parse(run.completedAt ?? run.updatedAt) : Math.max(now, start)
  const spans = new Map<string, TimelineSpan>()
  const open = (event: RunEvent, kind: SpanKind, label: string, title: string): TimelineSpan => {
    const id = event.correlationId ?? event.eventId
    let span = spans.get(id)
    if (span === undefined) {
      span = { id, kind, label, title, start: Date.parse(event.createdAt), end: undefined, outcome: kind === 'step' ? 'running' : 'waiting', attempts: [], retries: [], received: [], error: undefined }
      spans.set(id, span)
    }
    return span
  }
  for (const event of events) {
    const at = Date.parse(event.createdAt)
    const stepName = typeof event.data?.stepName === 'string' ? event.data.stepName : undefined
    switch (event.eventType) {
      case 'step_created':
      case 'step_started':
      case 'step_retrying':
      case 'step_completed':
      case 'step_failed': {
        const span = open(event, 'step', shortName(stepName ?? 'step'), stepName ?? event.correlationId ?? 'step')
        if (event.eventType === 'step_started') span.attempts.push({ at, attempt: typeof event.data?.attempt === 'number' ? event.data.attempt : span.attempts.length + 1 })
        if (event.eventType === 'step_retrying') span.retries.push({ at, message: errorMessage(event.data) })
        if (event.eventType === 'step_completed' || event.eventType === 'step_failed') {
          span.end = at
          span.outcome = event.eventType === 'step_completed' ? 'completed' : 'failed'
          span.error = errorMessage(event.data)
        }
        break
      }
      case 'wait_created':
      case 'wait_completed': {
        const resumeAt = typeof event.data?.resumeAt === 'string' ? event.data.resumeAt : undefined
        const span = open(event, 'sleep', 'sleep', resumeAt !== undefined ? `sleep until ${resumeAt}` : 'sleep')
        if (event.eventType === 'wait_completed') {
          span.end = at
          span.outcome = 'completed'
        }
        break
      }
      case 'hook_created':
      case 'hook_received':
      case 'hook_disposed': {
        const span = open(event, 'hook', event.data?.isWebhook === true ? 'webhook' : 'hook', `hook ${event.correlationId ?? ''}`)
        if (event.eventType === 'hook_received') {
          span.received.push(at)
          // A hook awaited once is done with its first payload; one iterated goes on until disposed.
          span.end ??= at
          span.outcome = 'received'
        }
        if (event.eventType === 'hook_disposed') {
          span.end = Math.max(span.end ?? at, at)
          if (span.outcome === 'waiting') span.outcome = 'unfinished'
        }
        break
      }
    }
  }
  for (const span of spans.values()) {
    if (span.end !== undefined || !finished) continue
    span.end = end
    span.outcome = run.status === 'cancelled' ? 'cancelled' : 'unfinished'
  }
  return { start, end, spans: [...spans.values()].sort((a, b) => a.start - b.start) }
}
