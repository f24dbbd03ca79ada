import { context, propagation } from '@opentelemetry/api'

/**
 * Adds the caller's active trace context (`traceparent`, `tracestate`, `baggage`, by the
 * propagators its OpenTelemetry SDK registered) to a request's headers, so the worker's spans
 * join the caller's trace. Without an SDK in the caller's process this adds nothing.
 */
export function addTraceHeaders (headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers)
  return headers
}
