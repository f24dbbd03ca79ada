/**
 * The worker's own OpenTelemetry SDK: a tracer provider registered globally (so every span made
 * through `@opentelemetry/api` in this process, the Workflow SDK's and world-local's included,
 * goes to it), W3C trace context and baggage propagation plus the worker's correlation id, and
 * the sink of the spans that deployment threads send. Loaded only when tracing is started.
 */
import { context, propagation, trace, type Context } from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { defaultResource, detectResources, envDetector, hostDetector, resourceFromAttributes, serviceInstanceIdDetector, type Resource } from '@opentelemetry/resources'
import {
  BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor,
  type ReadableSpan, type Span, type SpanExporter, type SpanProcessor
} from '@opentelemetry/sdk-trace-node'
import { correlationOf, correlationPropagator, SPAN_ATTRIBUTES } from './tracing.js'
import { fromWireSpan, setThreadSpanSink } from './thread-spans.js'

/** Every span started under a context that carries a correlation id gets it as an attribute. */
class CorrelationAttributeProcessor implements SpanProcessor {
  onStart (span: Span, parentContext: Context): void {
    const id = correlationOf(parentContext)
    if (id !== undefined && span.attributes[SPAN_ATTRIBUTES.correlationId] === undefined) {
      span.setAttribute(SPAN_ATTRIBUTES.correlationId, id)
    }
  }

  onEnd (): void {}
  async forceFlush (): Promise<void> {}
  async shutdown (): Promise<void> {}
}

/** Registers a provider with the worker's propagators and context manager as the process's (or thread's) global one. */
export function registerProvider (spanProcessors: SpanProcessor[], resource?: Resource): NodeTracerProvider {
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new CorrelationAttributeProcessor(), ...spanProcessors] })
  provider.register({
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), correlationPropagator]
    })
  })
  return provider
}

export interface WorkerTracingOptions {
  /** Where spans go: OTLP exporters (what the standalone server builds from OTEL_*), or an in-memory one in tests. */
  exporters: SpanExporter[]
  /** Export each span as it ends instead of in batches (tests, the console exporter). */
  exportEachSpan?: boolean
}

export interface WorkerTracing {
  readonly resource: Resource
  /** Exports every ended span now, the deployment threads' included. */
  forceFlush (): Promise<void>
  /** Flushes and stops; spans after this are dropped. */
  shutdown (): Promise<void>
}

/**
 * Starts tracing for this process: call it before creating the worker. The resource: `service.name`
 * `compute-worker` (OTEL_SERVICE_NAME overrides), `host.name`, a `service.instance.id` of its own,
 * then OTEL_RESOURCE_ATTRIBUTES; the sampler is the SDK's (OTEL_TRACES_SAMPLER, parent-based by default).
 */
export function startWorkerTracing (options: WorkerTracingOptions): WorkerTracing {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'compute-worker' }))
    // Each worker is its own instance (a random service.instance.id, host.name); OTEL_* win over both.
    .merge(detectResources({ detectors: [hostDetector, serviceInstanceIdDetector, envDetector] }))
  const processors = options.exporters.map((exporter) =>
    options.exportEachSpan === true ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter))
  const provider = registerProvider(processors, resource)
  // A thread's span ends there; here it is ended already, and goes straight to the exporters' processors.
  setThreadSpanSink((spans) => {
    for (const wire of spans) {
      const span: ReadableSpan = fromWireSpan(wire, resource)
      for (const processor of processors) processor.onEnd(span)
    }
  })
  return {
    resource,
    forceFlush: async () => { await provider.forceFlush() },
    shutdown: async () => {
      setThreadSpanSink(undefined)
      await provider.shutdown()
      // Unregistered, so that tracing can be started again in this process (tests do).
      trace.disable()
      propagation.disable()
      context.disable()
    }
  }
}
