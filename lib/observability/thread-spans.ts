/**
 * Spans cross from a deployment's thread to the main thread as plain data: a thread has its own
 * realm, so its spans cannot reach the main thread's tracer provider by themselves. The thread
 * exports each ended span over its MessagePort; the main thread hands it to its own span
 * processors as if it had ended there, so one exporter sends every span of a run, in one trace.
 * Light on purpose (types only from the SDK): the main thread loads it whether tracing is on or not.
 */
import { createTraceState, type Attributes, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api'
import type { Resource } from '@opentelemetry/resources'
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base'

interface WireSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
  traceState?: string
}

/** A `ReadableSpan` as structured clone can carry it (a trace state is a class: sent as its header form). */
export interface WireSpan {
  name: string
  kind: SpanKind
  context: WireSpanContext
  parent?: WireSpanContext
  startTime: HrTime
  endTime: HrTime
  duration: HrTime
  status: SpanStatus
  attributes: Attributes
  links: Array<{ context: WireSpanContext, attributes?: Attributes, droppedAttributesCount?: number }>
  events: TimedEvent[]
  scope: { name: string, version?: string, schemaUrl?: string }
  dropped: { attributes: number, events: number, links: number }
}

function toWireContext (context: SpanContext): WireSpanContext {
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote,
    traceState: context.traceState?.serialize()
  }
}

function fromWireContext (wire: WireSpanContext): SpanContext {
  return { ...wire, traceState: wire.traceState === undefined ? undefined : createTraceState(wire.traceState) }
}

export function toWireSpan (span: ReadableSpan): WireSpan {
  return {
    name: span.name,
    kind: span.kind,
    context: toWireContext(span.spanContext()),
    parent: span.parentSpanContext === undefined ? undefined : toWireContext(span.parentSpanContext),
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((link: Link) => ({ ...link, context: toWireContext(link.context) })),
    events: span.events,
    scope: { ...span.instrumentationScope },
    dropped: { attributes: span.droppedAttributesCount, events: span.droppedEventsCount, links: span.droppedLinksCount }
  }
}

/** The span again, as the main thread's processors take it, under the main thread's resource. */
export function fromWireSpan (wire: WireSpan, resource: Resource): ReadableSpan {
  const context = fromWireContext(wire.context)
  return {
    name: wire.name,
    kind: wire.kind,
    spanContext: () => context,
    parentSpanContext: wire.parent === undefined ? undefined : fromWireContext(wire.parent),
    startTime: wire.startTime,
    endTime: wire.endTime,
    duration: wire.duration,
    status: wire.status,
    attributes: wire.attributes,
    links: wire.links.map((link) => ({ ...link, context: fromWireContext(link.context) })),
    events: wire.events,
    ended: true,
    resource,
    instrumentationScope: wire.scope,
    droppedAttributesCount: wire.dropped.attributes,
    droppedEventsCount: wire.dropped.events,
    droppedLinksCount: wire.dropped.links
  }
}

let sink: ((spans: WireSpan[]) => void) | undefined

/** Set by the worker's tracing (tracing-sdk.ts): where deployment threads' spans go. */
export function setThreadSpanSink (next: ((spans: WireSpan[]) => void) | undefined): void {
  sink = next
}

/** Where threads' spans go; undefined when the worker's tracing is not started (threads then trace nothing). */
export function threadSpanSink (): ((spans: WireSpan[]) => void) | undefined {
  return sink
}
