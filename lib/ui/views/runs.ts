import type { RunHook, Run, RunEvent, RunList } from '../../schemas/runs.js'
import { durationBetween, formatDuration, formatTime, prettyJson, shortName } from '../format.js'
import { html, type Html } from '../html.js'
import type { Timeline } from '../timeline.js'
import { csrfField, nextPageLink, page, statusBadge, type PageContext } from './layout.js'
import { timelineView } from './timeline.js'

export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
const TERMINAL = new Set(['completed', 'failed', 'cancelled'])
/** How often a live region asks again, in seconds. */
export const REFRESH_SECONDS = 2

export interface RunsQuery {
  status?: string
  workflowName?: string
  deploymentId?: string
  cursor?: string
}

/** htmx attributes that replace `id` with the same element of a fresh copy of `url`, every few seconds. */
function live (id: string, url: string): Html {
  return html`id="${id}" hx-get="${url}" hx-trigger="every ${REFRESH_SECONDS}s" hx-select="#${id}" hx-swap="outerHTML"`
}

function runDuration (run: Run): string {
  const ms = durationBetween(run.startedAt ?? run.createdAt, run.completedAt)
  return ms === undefined ? '—' : formatDuration(ms)
}

export function runsPage (ctx: PageContext, options: { runs: RunList, query: RunsQuery, selfUrl: string }): Html {
  const { runs, query } = options
  const showDeployments = ctx.allows('GET', '/v1/deployments/:id')
  // Only the newest page follows the live list; an older one stays where the reader left it.
  const isLive = query.cursor === undefined
  const table = html`<section ${isLive ? live('runs-live', options.selfUrl) : html`id="runs-live"`}>
<table class="runs">
<thead><tr><th>run</th><th>workflow</th><th>status</th><th>deployment</th><th>created</th><th>took</th></tr></thead>
<tbody>
${runs.data.length === 0 ? html`<tr><td colspan="6" class="muted">No runs${query.status !== undefined || query.workflowName !== undefined || query.deploymentId !== undefined ? ' match these filters' : ' yet'}.</td></tr>` : ''}
${runs.data.map((run) => html`<tr data-run-id="${run.runId}" data-status="${run.status}">
  <td><a href="${ctx.base}/runs/${run.runId}"><code>${run.runId}</code></a></td>
  <td title="${run.workflowName}">${shortName(run.workflowName)}</td>
  <td>${statusBadge(run.status)}</td>
  <td>${showDeployments ? html`<a href="${ctx.base}/deployments/${run.deploymentId}"><code>${run.deploymentId}</code></a>` : html`<code>${run.deploymentId}</code>`}</td>
  <td>${formatTime(run.createdAt)}</td>
  <td>${runDuration(run)}</td>
</tr>`)}
</tbody>
</table>
<p class="paging">${query.cursor !== undefined ? html`<a href="${ctx.base}/runs?${filterParams(query)}">← Newest</a>` : ''} ${nextPageLink(`${ctx.base}/runs`, { ...query, cursor: undefined }, runs.cursor)}</p>
</section>`
  return page(ctx, {
    title: 'Runs',
    section: 'runs',
    body: html`<h1>Runs</h1>
<form class="filters" method="get" action="${ctx.base}/runs">
  <label>status <select name="status"><option value="">any</option>${RUN_STATUSES.map((status) => html`<option${status === query.status ? html` selected` : ''}>${status}</option>`)}</select></label>
  <label>workflow <input name="workflowName" value="${query.workflowName ?? ''}" placeholder="export name or id"></label>
  <label>deployment <input name="deploymentId" value="${query.deploymentId ?? ''}" placeholder="dpl_…"></label>
  <button type="submit">Filter</button>
  <a href="${ctx.base}/runs">clear</a>
</form>
${isLive ? html`<p class="muted live-note">Newest first; updates by itself.</p>` : ''}
${table}`
  })
}

function filterParams (query: RunsQuery): string {
  const params = new URLSearchParams()
  for (const name of ['status', 'workflowName', 'deploymentId'] as const) {
    const value = query[name]
    if (value !== undefined && value !== '') params.set(name, value)
  }
  return params.toString()
}

function jsonBlock (label: string, value: unknown): Html {
  return html`<section class="value"><h3>${label}</h3><pre><code>${prettyJson(value)}</code></pre></section>`
}

function hooksSection (ctx: PageContext, run: Run, hooks: RunHook[] | undefined): Html {
  if (hooks === undefined || hooks.length === 0) return html``
  const canResume = ctx.allows('POST', '/v1/runs/:id/hooks/:hookId/resume') && !TERMINAL.has(run.status)
  return html`<section class="hooks"><h2>Waiting hooks</h2>
${hooks.map((hook) => html`<div class="hook" data-hook-id="${hook.hookId}">
  <p><code>${hook.hookId}</code> waiting since ${formatTime(hook.createdAt)}${hook.isWebhook === true ? html` · a webhook: resumed by requests to its URL` : ''}</p>
  ${canResume && hook.isWebhook !== true
    ? html`<form method="post" action="${ctx.base}/runs/${run.runId}/hooks/${hook.hookId}/resume" class="resume">
    ${csrfField(ctx)}
    <label for="payload-${hook.hookId}">payload (JSON)</label>
    <textarea id="payload-${hook.hookId}" name="payload" rows="3" hx-preserve="true" spellcheck="false">{}</textarea>
    <button type="submit">Resume</button>
  </form>`
    : ''}
</div>`)}
</section>`
}

function eventsTable (events: RunEvent[], truncated: boolean): Html {
  return html`<section class="events"><h2>Events</h2>
<table><thead><tr><th>at</th><th>event</th><th>correlation</th><th>facts</th></tr></thead><tbody>
${events.map((event) => html`<tr><td class="at">${formatTime(event.createdAt)}</td><td>${event.eventType}</td><td><code>${event.correlationId ?? ''}</code></td><td>${event.data !== undefined ? html`<code class="facts">${JSON.stringify(event.data)}</code>` : ''}</td></tr>`)}
</tbody></table>
${truncated ? html`<p class="muted">Only the first ${events.length} events are shown.</p>` : ''}
</section>`
}

export interface RunPageData {
  run: Run
  events: RunEvent[]
  eventsTruncated: boolean
  hooks: RunHook[] | undefined
  timeline: Timeline
  selfUrl: string
}

export function runPage (ctx: PageContext, data: RunPageData): Html {
  const { run } = data
  const finished = TERMINAL.has(run.status)
  const canCancel = !finished && ctx.allows('POST', '/v1/runs/:id/cancel')
  const deployment = ctx.allows('GET', '/v1/deployments/:id')
    ? html`<a href="${ctx.base}/deployments/${run.deploymentId}"><code>${run.deploymentId}</code></a>`
    : html`<code>${run.deploymentId}</code>`
  const liveRegion = html`<div ${finished ? html`id="run-live"` : live('run-live', data.selfUrl)} data-status="${run.status}">
<header class="run-head">
  <h1>${shortName(run.workflowName)} ${statusBadge(run.status)}</h1>
  ${canCancel ? html`<form method="post" action="${ctx.base}/runs/${run.runId}/cancel" class="cancel">${csrfField(ctx)}<button type="submit" class="danger">Cancel run</button></form>` : ''}
</header>
<dl class="facts">
  <dt>run</dt><dd><code>${run.runId}</code></dd>
  <dt>workflow</dt><dd><code>${run.workflowName}</code></dd>
  <dt>deployment</dt><dd>${deployment}</dd>
  <dt>created</dt><dd>${formatTime(run.createdAt)}</dd>
  <dt>started</dt><dd>${formatTime(run.startedAt)}</dd>
  <dt>completed</dt><dd>${formatTime(run.completedAt)}</dd>
  <dt>took</dt><dd>${runDuration(run)}</dd>
</dl>
${run.error !== undefined
  ? html`<section class="error"><h2>Error</h2><p>${run.error.message}${run.error.code !== undefined ? html` <code>${run.error.code}</code>` : ''}</p>${run.error.stack !== undefined ? html`<pre><code>${run.error.stack}</code></pre>` : ''}</section>`
  : ''}
<div class="values">
${run.input !== undefined ? jsonBlock('input', run.input) : ''}
${run.output !== undefined ? jsonBlock('output', run.output) : run.status === 'completed' ? '' : html`<section class="value"><h3>output</h3><p class="muted">${finished ? 'none' : 'not yet'}</p></section>`}
</div>
${hooksSection(ctx, run, data.hooks)}
<section><h2>Timeline</h2>${timelineView(data.timeline)}</section>
${eventsTable(data.events, data.eventsTruncated)}
</div>`

  return page(ctx, {
    title: `${shortName(run.workflowName)} ${run.runId}`,
    section: 'runs',
    body: html`<p class="crumbs"><a href="${ctx.base}/runs">Runs</a> / <code>${run.runId}</code></p>
${liveRegion}
<section class="stream"><h2>Output stream</h2>
  <div hx-ext="sse" sse-connect="${ctx.base}/runs/${run.runId}/stream" sse-close="end">
    <ol class="chunks" id="chunks" sse-swap="chunk" hx-swap="beforeend"></ol>
    <p class="muted stream-state" id="stream-state" sse-swap="end,failed" hx-swap="innerHTML">${finished ? 'Reading…' : 'Live: chunks appear as the run writes them.'}</p>
  </div>
  <noscript><p><a href="${ctx.base}/runs/${run.runId}/stream?format=text">The stream as text</a> (live while the run goes on).</p></noscript>
</section>`
  })
}
