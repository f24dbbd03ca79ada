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

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** The same waterfall as an SVG picture: the worker's spans in blue, the Workflow SDK's (and world-local's) in green. */
export function waterfallSvg (spans: ReadableSpan[], title: string): string {
  const rows: Array<{ span: ReadableSpan, depth: number }> = []
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = new Map<string, ReadableSpan[]>()
  const roots: ReadableSpan[] = []
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    if (parent !== undefined && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span])
    else roots.push(span)
  }
  const byStart = (a: ReadableSpan, b: ReadableSpan) => toMs(a.startTime) - toMs(b.startTime)
  const visit = (span: ReadableSpan, depth: number): void => {
    rows.push({ span, depth })
    for (const child of (children.get(span.spanContext().spanId) ?? []).sort(byStart)) visit(child, depth + 1)
  }
  for (const root of roots.sort(byStart)) visit(root, 0)
  const start = Math.min(...spans.map((span) => toMs(span.startTime)))
  const end = Math.max(...spans.map((span) => toMs(span.endTime)))
  const labelWidth = 430
  const barsWidth = 560
  const rowHeight = 18
  const top = 40
  const scale = barsWidth / Math.max(1, end - start)
  const height = top + rows.length * rowHeight + 30
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barsWidth + 90}" height="${height}" font-family="monospace" font-size="11">`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text x="8" y="20" font-size="13" font-weight="bold">${escape(title)}</text>`
  ]
  rows.forEach(({ span, depth }, i) => {
    const y = top + i * rowHeight
    const x = labelWidth + (toMs(span.startTime) - start) * scale
    const ms = toMs(span.endTime) - toMs(span.startTime)
    const ours = span.instrumentationScope.name === '@workflow-studio/compute-worker'
    out.push(
      i % 2 === 0 ? `<rect x="0" y="${y - 12}" width="100%" height="${rowHeight}" fill="#f6f8fa"/>` : '',
      `<text x="${8 + depth * 12}" y="${y}">${escape(span.name.length > 60 - depth * 2 ? span.name.slice(0, 57 - depth * 2) + '…' : span.name)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y - 10}" width="${Math.max(1.5, ms * scale).toFixed(1)}" height="12" rx="2" fill="${ours ? '#3b82f6' : '#22a06b'}"/>`,
      `<text x="${(labelWidth + barsWidth + 8).toFixed(0)}" y="${y}" fill="#555">${ms.toFixed(1)} ms</text>`
    )
  })
  out.push(
    `<text x="8" y="${height - 10}" fill="#555">blue: spans of the worker (HTTP, trigger, queue deliveries)  green: spans of the Workflow SDK in the deployment's thread and of world-local</text>`,
    '</svg>'
  )
  return out.filter(Boolean).join('\n') + '\n'
}
