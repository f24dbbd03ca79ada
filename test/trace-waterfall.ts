import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'

const toMs = ([seconds, nanos]: [number, number]): number => seconds * 1000 + nanos / 1e6

/**
 * One trace as a text waterfall: a line per span, indented under its parent, with a bar placed
 * on the trace's timeline. `thread` marks spans made in a deployment's thread (the SDK's own).
 */
export function waterfall (spans: ReadableSpan[], options: { width?: number, attributes?: string[] } = {}): string {
  const width = options.width ?? 40
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = new Map<string, ReadableSpan[]>()
  const roots: ReadableSpan[] = []
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    if (parent !== undefined && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span])
    else roots.push(span)
  }
  const start = Math.min(...spans.map((span) => toMs(span.startTime)))
  const end = Math.max(...spans.map((span) => toMs(span.endTime)))
  const scale = width / Math.max(1, end - start)
  const lines: string[] = []
  const byStart = (a: ReadableSpan, b: ReadableSpan) => toMs(a.startTime) - toMs(b.startTime)
  const visit = (span: ReadableSpan, depth: number): void => {
    const from = Math.floor((toMs(span.startTime) - start) * scale)
    const length = Math.max(1, Math.round((toMs(span.endTime) - toMs(span.startTime)) * scale))
    const bar = ' '.repeat(from) + '█'.repeat(Math.min(length, width - from)) + ' '.repeat(Math.max(0, width - from - length))
    const label = `${'  '.repeat(depth)}${span.name}`
    const details = (options.attributes ?? [])
      .filter((key) => span.attributes[key] !== undefined)
      .map((key) => `${key}=${String(span.attributes[key])}`)
    const ms = (toMs(span.endTime) - toMs(span.startTime)).toFixed(1).padStart(8)
    lines.push(`${label.padEnd(56).slice(0, 56)} ${bar} ${ms} ms${details.length > 0 ? '  ' + details.join(' ') : ''}`)
    for (const child of (children.get(span.spanContext().spanId) ?? []).sort(byStart)) visit(child, depth + 1)
  }
  for (const root of roots.sort(byStart)) visit(root, 0)
  return lines.join('\n')
}
