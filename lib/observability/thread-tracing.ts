/**
 * A deployment thread's tracing (loaded only when the worker traces): the thread's realm gets a
 * tracer provider of its own, with the worker's propagators, whose ended spans are posted to the
 * main thread (see thread-spans.ts) instead of being exported from here.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-node'
import { toWireSpan, type WireSpan } from './thread-spans.js'
import { registerProvider } from './tracing-sdk.js'

class PostingSpanExporter implements SpanExporter {
  constructor (private readonly post: (spans: WireSpan[]) => void) {}

  export (spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.post(spans.map(toWireSpan))
      done({ code: ExportResultCode.SUCCESS })
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error })
    }
  }

  async shutdown (): Promise<void> {}
  async forceFlush (): Promise<void> {}
}

export function startThreadTracing (post: (spans: WireSpan[]) => void): void {
  registerProvider([new SimpleSpanProcessor(new PostingSpanExporter(post))])
}
