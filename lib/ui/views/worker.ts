import { formatTime } from '../format.js'
import { html, type Html } from '../html.js'
import { page, statusBadge, type PageContext } from './layout.js'

interface Check { status: string, error?: string, checkedAt?: string, target?: string, specVersion?: number }
interface ThreadReport { deploymentId: string, state: string, inFlight: number }

/** What `GET /v1/health/ready` answers (200 or 503), as far as the page reads it. */
export interface ReadinessReport {
  status: string
  version: string
  message?: string
  checks: {
    world: Check
    database: Check
    compute: { status: string, kind?: string, error?: string, detail?: Record<string, unknown> }
  }
}

function checkRow (name: string, check: Check, detail: Html = html``): Html {
  return html`<tr><td>${name}</td><td>${statusBadge(check.status)}</td><td>${check.error ?? ''}${detail}</td><td>${formatTime(check.checkedAt)}</td></tr>`
}

function list (value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : []
}

export function workerPage (ctx: PageContext, readiness: ReadinessReport, readyStatus: number): Html {
  const { world, database, compute } = readiness.checks
  const detail = compute.detail ?? {}
  const threads = (Array.isArray(detail.threads) ? detail.threads : []) as ThreadReport[]
  const counts = (detail.threadCounts ?? {}) as Record<string, number>
  return page(ctx, {
    title: 'Worker',
    section: 'worker',
    body: html`<div id="worker-live" hx-get="${ctx.base}/worker" hx-trigger="every 5s" hx-select="#worker-live" hx-swap="outerHTML">
<h1>Worker ${statusBadge(readyStatus === 200 ? 'ready' : 'unready')}</h1>
${readiness.message !== undefined ? html`<p class="error">${readiness.message}</p>` : ''}
<dl class="facts">
  <dt>version</dt><dd><code>${readiness.version}</code></dd>
  <dt>World</dt><dd><code>${world.target ?? ''}</code>${world.specVersion !== undefined ? html` · spec version ${world.specVersion}` : ''}</dd>
  <dt>executor</dt><dd>${compute.status === 'none' ? 'none (COMPUTE_WORKER_COMPUTE=none: code runs elsewhere)' : html`<code>${compute.kind ?? ''}</code>`}</dd>
</dl>
<section><h2>Readiness</h2>
<table><thead><tr><th>check</th><th>status</th><th>detail</th><th>checked</th></tr></thead><tbody>
${checkRow('World', world)}
${checkRow('control-plane database', database)}
<tr><td>executor</td><td>${statusBadge(compute.status)}</td><td>${compute.error ?? ''}</td><td></td></tr>
</tbody></table></section>
${compute.status === 'none'
  ? ''
  : html`<section><h2>Executor threads</h2>
<p>${String(counts.loaded ?? threads.length)} loaded of at most ${String(detail.maxLoadedDeployments ?? '?')} · ${String(counts.answering ?? 0)} answering · ${String(counts.loading ?? 0)} loading · ${String(counts.unresponsive ?? 0)} unresponsive · ${String(detail.loads ?? 0)} loads · ${String(detail.crashes ?? 0)} crashes</p>
<table class="threads"><thead><tr><th>deployment</th><th>state</th><th>deliveries in flight</th></tr></thead><tbody>
${threads.length === 0 ? html`<tr><td colspan="3" class="muted">No deployment loaded: a thread starts on its deployment's first delivery.</td></tr>` : ''}
${threads.map((thread) => html`<tr><td>${ctx.allows('GET', '/v1/deployments/:id') ? html`<a href="${ctx.base}/deployments/${thread.deploymentId}"><code>${thread.deploymentId}</code></a>` : html`<code>${thread.deploymentId}</code>`}</td><td>${statusBadge(thread.state)}</td><td>${String(thread.inFlight)}</td></tr>`)}
</tbody></table>
${list(detail.crashed).length > 0 ? html`<p>Crashed, restarting on their next delivery: ${list(detail.crashed).map((id) => html`<code>${id}</code> `)}</p>` : ''}
${list(detail.failedLoads).length > 0 ? html`<p class="error">Failed to load: ${list(detail.failedLoads).map((id) => html`<code>${id}</code> `)}</p>` : ''}
</section>`}
</div>`
  })
}
