import type { WorkerTracing, WorkerTracingOptions } from './tracing-sdk.js'

export type { WorkerTracing, WorkerTracingOptions }

/**
 * Starts the worker's tracing in this process: a tracer provider registered globally, exporting
 * to `exporters`, which also receives the spans of deployment threads. Call it before creating
 * the worker. The OpenTelemetry SDK loads only when this is called: a worker that never traces
 * never loads it.
 */
export async function startTracing (options: WorkerTracingOptions): Promise<WorkerTracing> {
  const { startWorkerTracing } = await import('./tracing-sdk.js')
  return startWorkerTracing(options)
}
