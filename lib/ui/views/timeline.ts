import { formatDuration } from '../format.js'
import { html, trusted, type Html } from '../html.js'
import type { Timeline, TimelineSpan } from '../timeline.js'

const WIDTH = 1000
const LABEL_WIDTH = 230
const TRACK_START = LABEL_WIDTH + 10
const TRACK_WIDTH = WIDTH - TRACK_START - 10
const AXIS_HEIGHT = 26
const ROW_HEIGHT = 26
const BAR_HEIGHT = 14

/** A round tick step giving about six ticks over `span` ms. */
function tickStep (span: number): number {
  const raw = Math.max(span, 1) / 6
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((factor) => factor * magnitude).find((step) => step >= raw) ?? magnitude * 10
}

function number (value: number): Html {
  return trusted(value.toFixed(1))
}

function spanSummary (span: TimelineSpan, end: number): string {
  const parts = [span.title, formatDuration((span.end ?? end) - span.start), span.outcome]
  if (span.attempts.length > 1) parts.push(`${span.attempts.length} attempts`)
  for (const retry of span.retries) if (retry.message !== undefined) parts.push(`retried: ${retry.message}`)
  if (span.error !== undefined) parts.push(span.error)
  return parts.join(' · ')
}

function clip (label: string): string {
  return label.length > 30 ? `${label.slice(0, 29)}…` : label
}

/**
 * The run's steps, sleeps and hooks as bars on one time axis (SVG, drawn on the server: it needs
 * no script and no inline style), with each attempt and retry marked on its bar; the table
 * below says the same in words.
 */
export function timelineView (timeline: Timeline): Html {
  if (timeline.spans.length === 0) return html`<p class="muted">No steps, sleeps or hooks yet.</p>`
  const span = Math.max(timeline.end - timeline.start, 1)
  const x = (at: number): number => TRACK_START + ((Math.min(Math.max(at, timeline.start), timeline.end) - timeline.start) / span) * TRACK_WIDTH
  const height = AXIS_HEIGHT + timeline.spans.length * ROW_HEIGHT + 6
  const step = tickStep(span)
  const ticks: number[] = []
  for (let at = 0; at <= span; at += step) ticks.push(at)

  const rows = timeline.spans.map((item, row) => {
    const y = AXIS_HEIGHT + row * ROW_HEIGHT
    const barY = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
    const from = x(item.start)
    const to = x(item.end ?? timeline.end)
    const label = item.attempts.length > 1 ? `${item.label} ×${item.attempts.length}` : item.label
    return html`<g class="span span-${item.kind} outcome-${item.outcome}">
  <title>${spanSummary(item, timeline.end)}</title>
  <text class="label" x="4" y="${number(y + ROW_HEIGHT / 2 + 4)}">${clip(label)}</text>
  <rect class="bar${item.end === undefined ? ' open' : ''}" x="${number(from)}" y="${number(barY)}" width="${number(Math.max(to - from, 3))}" height="${BAR_HEIGHT}" rx="3"></rect>
  ${item.attempts.slice(1).map((attempt) => html`<line class="attempt" x1="${number(x(attempt.at))}" x2="${number(x(attempt.at))}" y1="${number(barY - 2)}" y2="${number(barY + BAR_HEIGHT + 2)}"></line>`)}
  ${item.retries.map((retry) => html`<circle class="retry" cx="${number(x(retry.at))}" cy="${number(barY + BAR_HEIGHT / 2)}" r="4"></circle>`)}
  ${item.received.map((at) => html`<circle class="received" cx="${number(x(at))}" cy="${number(barY + BAR_HEIGHT / 2)}" r="4"></circle>`)}
</g>`
  })

  return html`<figure class="timeline">
<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="timeline-caption" preserveAspectRatio="xMinYMin meet">
  <g class="axis">${ticks.map((at) => html`<line x1="${number(x(timeline.start + at))}" x2="${number(x(timeline.start + at))}" y1="18" y2="${height}"></line><text x="${number(x(timeline.start + at))}" y="13">${formatDuration(at)}</text>`)}</g>
  ${rows}
</svg>
<figcaption id="timeline-caption">Steps, sleeps and hooks over ${formatDuration(span)}: a bar from start to end; ticks mark a new attempt, red dots a retry, green dots a payload a hook received.</figcaption>
</figure>
<table class="spans">
<thead><tr><th>what</th><th>kind</th><th>starts at</th><th>took</th><th>attempts</th><th>outcome</th></tr></thead>
<tbody>
${timeline.spans.map((item) => html`<tr>
  <td title="${item.title}">${item.label}</td><td>${item.kind}</td>
  <td>+${formatDuration(item.start - timeline.start)}</td>
  <td>${item.end === undefined ? html`${formatDuration(timeline.end - item.start)} so far` : formatDuration(item.end - item.start)}</td>
  <td>${item.kind === 'step' ? String(item.attempts.length) : ''}${item.retries.length > 0 ? html` <span class="muted">(${item.retries.length} ${item.retries.length === 1 ? 'retry' : 'retries'})</span>` : ''}</td>
  <td><span class="outcome outcome-${item.outcome}">${item.outcome}</span>${item.error !== undefined ? html` <span class="muted">${item.error}</span>` : ''}</td>
</tr>`)}
</tbody>
</table>`
}
