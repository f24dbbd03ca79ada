import type { AuditPage, AuditRecord } from '../../schemas/audit.js'
import { formatTime, shortName } from '../format.js'
import { html, type Html } from '../html.js'
import { nextPageLink, page, type PageContext } from './layout.js'

export interface AuditQuery {
  correlationId?: string
  actorKeyId?: string
  action?: string
  cursor?: string
}

function runLink (ctx: PageContext, runId: unknown): Html {
  if (typeof runId !== 'string') return html``
  return ctx.allows('GET', '/v1/runs/:id') ? html`<a href="${ctx.base}/runs/${runId}"><code>${runId}</code></a>` : html`<code>${runId}</code>`
}

/** A value that filters the log by itself; a correlation id is shortened on screen (the link and tooltip keep it whole). */
function filterLink (ctx: PageContext, name: keyof AuditQuery, value: string | null): Html {
  if (value === null) return html`<span class="muted">—</span>`
  const shown = name === 'correlationId' && value.length > 12 ? `${value.slice(0, 8)}…` : value
  return html`<a href="${ctx.base}/audit?${name}=${encodeURIComponent(value)}" title="${value}"><code>${shown}</code></a>`
}

function target (value: string | null): Html {
  if (value === null) return html``
  return html`<code title="${value}">${value.includes('//') ? shortName(value) : value}</code>`
}

/** The facts of a row beyond the columns: status, codes, idempotency key, … */
function facts (record: AuditRecord): string {
  const { correlationId: _c, runId: _r, ...rest } = record.metadata
  return Object.keys(rest).length === 0 ? '' : JSON.stringify(rest)
}

export function auditPage (ctx: PageContext, options: { audit: AuditPage, query: AuditQuery }): Html {
  const { audit, query } = options
  return page(ctx, {
    title: 'Audit log',
    section: 'audit',
    body: html`<h1>Audit log</h1>
<form class="filters" method="get" action="${ctx.base}/audit">
  <label>correlation id <input name="correlationId" value="${query.correlationId ?? ''}"></label>
  <label>key <input name="actorKeyId" value="${query.actorKeyId ?? ''}" placeholder="key_…"></label>
  <label>action <input name="action" value="${query.action ?? ''}" placeholder="runs.trigger"></label>
  <button type="submit">Filter</button>
  <a href="${ctx.base}/audit">clear</a>
</form>
<table class="audit">
<thead><tr><th>at</th><th>action</th><th>outcome</th><th>key</th><th>target</th><th>run</th><th>correlation id</th><th>worker</th><th>facts</th></tr></thead>
<tbody>
${audit.data.length === 0 ? html`<tr><td colspan="9" class="muted">No rows.</td></tr>` : ''}
${audit.data.map((record) => html`<tr>
  <td class="at">${formatTime(record.at)}</td>
  <td class="nowrap">${filterLink(ctx, 'action', record.action)}</td>
  <td><span class="outcome outcome-${record.outcome}">${record.outcome}</span></td>
  <td class="nowrap">${filterLink(ctx, 'actorKeyId', record.actorKeyId)}</td>
  <td>${target(record.target)}</td>
  <td>${runLink(ctx, record.metadata.runId)}</td>
  <td>${filterLink(ctx, 'correlationId', record.metadata.correlationId)}</td>
  <td class="nowrap">${record.worker === null ? html`<span class="muted">—</span>` : html`<code>${record.worker}</code>`}</td>
  <td class="facts"><code class="facts">${facts(record)}</code></td>
</tr>`)}
</tbody>
</table>
<p class="paging">${nextPageLink(`${ctx.base}/audit`, { ...query, cursor: undefined }, audit.cursor)}</p>`
  })
}

export function webhooksPage (ctx: PageContext, options: { deliveries: AuditPage, cursor?: string }): Html {
  const { deliveries } = options
  return page(ctx, {
    title: 'Webhooks',
    section: 'webhooks',
    body: html`<h1>Webhook deliveries</h1>
<p class="muted">Every delivery to <code>POST /v1/webhooks/:provider</code>, newest first: accepted, duplicate, refused (and why) or failed.</p>
<table class="webhooks">
<thead><tr><th>at</th><th>provider</th><th>delivery</th><th>outcome</th><th>status</th><th>reason</th><th>run</th><th>correlation id</th></tr></thead>
<tbody>
${deliveries.data.length === 0 ? html`<tr><td colspan="8" class="muted">No deliveries yet.</td></tr>` : ''}
${deliveries.data.map((record) => deliveryRow(ctx, record))}
</tbody>
</table>
<p class="paging">${options.cursor !== undefined ? html`<a href="${ctx.base}/webhooks">← Newest</a>` : ''} ${nextPageLink(`${ctx.base}/webhooks`, {}, deliveries.cursor)}</p>`
  })
}

function deliveryRow (ctx: PageContext, record: AuditRecord): Html {
  const facts = record.metadata as Record<string, unknown>
  const text = (value: unknown): string => value === undefined || value === null ? '' : String(value)
  return html`<tr>
  <td class="at">${formatTime(record.at)}</td>
  <td>${text(facts.provider)}</td>
  <td><code>${text(facts.deliveryId)}</code></td>
  <td><span class="outcome outcome-${record.outcome}">${record.outcome}</span></td>
  <td>${text(facts.status)}</td>
  <td>${text(facts.reason)}</td>
  <td>${runLink(ctx, record.metadata.runId)}</td>
  <td>${filterLink(ctx, 'correlationId', record.metadata.correlationId)}</td>
</tr>`
}
