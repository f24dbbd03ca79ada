import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { startTracing as startWorkerTracing, type WorkerTracing } from '../lib/observability/start-tracing.js'
import type { TracingSettings } from './env.js'

/** The worker's tracing as OTEL_* configure it; the SDK and the exporters load only then. */
export async function startTracing (settings: TracingSettings): Promise<WorkerTracing> {
  const exporters: SpanExporter[] = []
  for (const name of settings.exporters) {
    if (name === 'console') {
      const { ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base')
      exporters.push(new ConsoleSpanExporter())
    } else if (settings.protocol === 'http/json') {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
      exporters.push(new OTLPTraceExporter())
    } else {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
      exporters.push(new OTLPTraceExporter())
    }
  }
  return await startWorkerTracing({ exporters })
}
