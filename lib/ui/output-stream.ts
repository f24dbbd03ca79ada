import { once } from 'node:events'
import { PassThrough, type Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import { html } from './html.js'

type NdjsonFrame = { index: number, value: unknown } | { end: true, nextIndex: number } | { error: { code: string, message: string } }

// Proxies and browsers drop a silent connection; a comment every so often keeps it.
const PING_MS = 15_000

/** One SSE event whose data is an HTML fragment (the page's SSE extension swaps it in as it is). */
function sseEvent (event: string, fragment: string, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\n${fragment.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`
}

const frames = {
  sse: {
    chunk: (index: number, value: unknown) => sseEvent('chunk', html`<li value="${index}"><code>${JSON.stringify(value)}</code></li>`.text, index),
    end: (nextIndex: number) => sseEvent('end', html`The stream is closed after ${nextIndex} ${nextIndex === 1 ? 'chunk' : 'chunks'}.`.text),
    failed: (message: string) => sseEvent('failed', html`<span class="error">The stream failed: ${message}</span>`.text),
    ping: ': ping\n\n' as string | undefined
  },
  text: {
    chunk: (index: number, value: unknown) => `[${index}] ${JSON.stringify(value)}\n`,
    end: (nextIndex: number) => `-- closed after ${nextIndex} chunks\n`,
    failed: (message: string) => `-- failed: ${message}\n`,
    ping: undefined as string | undefined
  }
}

/**
 * The run's output stream as the public route answers it in ndjson (`GET /v1/runs/:id/stream`),
 * re-framed for the page: SSE events carrying escaped HTML (`chunk` with the chunk index as id,
 * so a reconnecting browser resumes, `end`, `failed`), or plain text for a reader without scripts.
 * Destroying the result destroys the source (the route then releases the World's reader).
 */
export function runOutputStream (source: NodeJS.ReadableStream, format: 'sse' | 'text', options: { onError?: (error: unknown) => void } = {}): Readable {
  const frame = frames[format]
  const out = new PassThrough()
  const lines = createInterface({ input: source, crlfDelay: Infinity })
  const write = async (text: string): Promise<void> => {
    if (out.writableEnded || out.destroyed) return
    if (!out.write(text)) await Promise.race([once(out, 'drain'), once(out, 'close')])
  }
  const ping = frame.ping === undefined ? undefined : setInterval(() => { void write(frame.ping as string) }, PING_MS)
  ping?.unref()
  const pump = async (): Promise<void> => {
    try {
      for await (const line of lines) {
        if (line === '') continue
        const parsed = JSON.parse(line) as NdjsonFrame
        if ('index' in parsed) await write(frame.chunk(parsed.index, parsed.value))
        else if ('end' in parsed) await write(frame.end(parsed.nextIndex))
        else if ('error' in parsed) await write(frame.failed(parsed.error.message))
      }
    } catch (error) {
      options.onError?.(error)
      await write(frame.failed((error as Error)?.message ?? 'the stream broke off'))
    }
    if (!out.destroyed) out.end()
  }
  out.once('close', () => {
    if (ping !== undefined) clearInterval(ping)
    lines.close()
    ;(source as Readable).destroy?.()
  })
  void pump()
  return out
}
