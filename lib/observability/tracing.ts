/**
 * Tracing through `@opentelemetry/api` alone: spans go to whatever tracer provider the process
 * registered (the worker's own, see tracing-sdk.ts, or a host application's). With none
 * registered, `tracingActive()` is false and every caller skips its tracing path entirely.
 * Loaded by deployment threads too: nothing here may import the SDK or server code.
 */
import {
  context, createContextKey, propagation, ProxyTracerProvider, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type SpanKind, type TextMapGetter, type TextMapPropagator, type TextMapSetter
} from '@opentelemetry/api'
import { CORRELATION_HEADER } from '../headers.js'

/** Span attribute names: the Workflow SDK's own where it has one (workflow.run.id, step.name…). */
export const SPAN_ATTRIBUTES = {
  correlationId: 'compute_worker.correlation_id',
  runId: 'workflow.run.id',
  workflowName: 'workflow.name',
  stepName: 'step.name',
  attempt: 'workflow.queue.attempt',
  deploymentId: 'deployment.id',
  queueName: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  deliveryOutcome: 'compute_worker.delivery.outcome'
} as const

const TRACER_NAME = '@workflow-studio/compute-worker'
const CORRELATION = createContextKey('compute-worker correlation id')
// A fresh proxy's delegate is the API's no-op provider: what the global one is until an SDK registers.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate()

/** True once a tracer provider is registered (OTEL_* configured an exporter, or the host set one up). */
export function tracingActive (): boolean {
  const provider = trace.getTracerProvider()
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider
  return delegate !== NOOP_PROVIDER
}

export function correlationOf (ctx: Context): string | undefined {
  const id = ctx.getValue(CORRELATION)
  return typeof id === 'string' ? id : undefined
}

export function withCorrelation (ctx: Context, correlationId: string | undefined): Context {
  return correlationId === undefined || correlationId === '' ? ctx : ctx.setValue(CORRELATION, correlationId)
}

/**
 * Carries the correlation id in trace carriers (`x-workflow-correlation-id`, the worker's own
 * header): the SDK writes a carrier into every queue message it sends, so a run's later
 * deliveries, and the spans they make, keep the id of the request that triggered the run.
 */
export const correlationPropagator: TextMapPropagator = {
  inject (ctx: Context, carrier: unknown, setter: TextMapSetter) {
    const id = correlationOf(ctx)
    if (id !== undefined) setter.set(carrier, CORRELATION_HEADER, id)
  },
  extract (ctx: Context, carrier: unknown, getter: TextMapGetter) {
    const value = getter.get(carrier, CORRELATION_HEADER)
    return withCorrelation(ctx, Array.isArray(value) ? value[0] : value)
  },
  fields: () => [CORRELATION_HEADER]
}

const recordGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key]
    return typeof value === 'string' || Array.isArray(value) ? value as string | string[] : undefined
  }
}
const recordSetter: TextMapSetter<Record<string, string>> = { set: (carrier, key, value) => { carrier[key] = value } }

/** The active trace context as a carrier (traceparent, tracestate, baggage, correlation id); `{}` when tracing is off. */
export function currentTraceCarrier (ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {}
  if (!tracingActive()) return carrier
  propagation.inject(ctx, carrier, recordSetter)
  correlationPropagator.inject(ctx, carrier, recordSetter)
  return carrier
}

/** The context a carrier (queue message, HTTP headers) stands for, on top of `base`. */
export function contextFromCarrier (carrier: Record<string, unknown> | undefined, base: Context = context.active()): Context {
  if (carrier === undefined || carrier === null || typeof carrier !== 'object') return base
  return correlationPropagator.extract(propagation.extract(base, carrier, recordGetter), carrier, recordGetter)
}

export interface SpanSettings {
  kind?: SpanKind
  attributes?: Attributes
  /** The parent; the active context by default. */
  parent?: Context
}

/**
 * Runs `work` as the active span `name`, which ends with it (an error sets its status and is
 * recorded). The correlation id of the parent context becomes an attribute. Call only when
 * `tracingActive()`; callers skip this path entirely otherwise.
 */
/** Starts span `name` (not yet active); the parent's correlation id becomes an attribute. */
export function startSpan (name: string, settings: SpanSettings): { span: Span, context: Context } {
  const parent = settings.parent ?? context.active()
  const correlationId = correlationOf(parent)
  const span = trace.getTracer(TRACER_NAME).startSpan(name, {
    kind: settings.kind,
    attributes: correlationId === undefined ? settings.attributes : { ...settings.attributes, [SPAN_ATTRIBUTES.correlationId]: correlationId }
  }, parent)
  return { span, context: trace.setSpan(parent, span) }
}

export function failSpan (span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) })
}

/**
 * Runs `work` as the active span `name`, which ends with it (an error sets its status and is
 * recorded). Call only when `tracingActive()`: callers skip this path entirely otherwise.
 */
export async function inSpan<T> (name: string, settings: SpanSettings, work: (span: Span) => Promise<T>): Promise<T> {
  const { span, context: active } = startSpan(name, settings)
  try {
    return await context.with(active, async () => await work(span))
  } catch (error) {
    failSpan(span, error)
    throw error
  } finally {
    span.end()
  }
}
