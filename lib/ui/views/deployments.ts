import type { DeploymentView as Deployment, DeploymentList } from '../../schemas/deployments.js'
import { formatBytes, formatTime, shortName } from '../format.js'
import { html, type Html } from '../html.js'
import { csrfField, nextPageLink, page, type PageContext } from './layout.js'

function activeBadge (deployment: Deployment): Html {
  return deployment.active ? html`<span class="status status-active">active</span>` : html``
}

function activateForm (ctx: PageContext, deployment: Deployment): Html {
  if (deployment.active || !ctx.allows('POST', '/v1/deployments/:id/activate')) return html``
  return html`<form method="post" action="${ctx.base}/deployments/${deployment.id}/activate" class="activate">${csrfField(ctx)}<button type="submit">Activate</button></form>`
}

function labels (deployment: Deployment): Html {
  const entries = Object.entries(deployment.labels ?? {})
  return html`${entries.map(([name, value]) => html`<code class="label">${name}=${String(value)}</code> `)}`
}

export function deploymentsPage (ctx: PageContext, options: { deployments: DeploymentList, cursor?: string }): Html {
  const { deployments } = options
  return page(ctx, {
    title: 'Deployments',
    section: 'deployments',
    body: html`<h1>Deployments</h1>
<table class="deployments">
<thead><tr><th>deployment</th><th></th><th>created</th><th>workflows</th><th>files</th><th>labels</th><th></th></tr></thead>
<tbody>
${deployments.data.length === 0 ? html`<tr><td colspan="7" class="muted">No deployments yet: <code>compute-worker deploy &lt;dir&gt; --activate</code>.</td></tr>` : ''}
${deployments.data.map((deployment) => html`<tr data-deployment-id="${deployment.id}">
  <td><a href="${ctx.base}/deployments/${deployment.id}"><code>${deployment.id}</code></a></td>
  <td>${activeBadge(deployment)}</td>
  <td>${formatTime(deployment.createdAt)}</td>
  <td>${deployment.workflows.length}</td>
  <td>${deployment.files.length}</td>
  <td>${labels(deployment)}</td>
  <td>${activateForm(ctx, deployment)}</td>
</tr>`)}
</tbody>
</table>
<p class="paging">${options.cursor !== undefined ? html`<a href="${ctx.base}/deployments">← Newest</a>` : ''} ${nextPageLink(`${ctx.base}/deployments`, {}, deployments.cursor)}</p>`
  })
}

export function deploymentPage (ctx: PageContext, deployment: Deployment): Html {
  const runsOf = ctx.allows('GET', '/v1/runs')
  return page(ctx, {
    title: `Deployment ${deployment.id}`,
    section: 'deployments',
    body: html`<p class="crumbs"><a href="${ctx.base}/deployments">Deployments</a> / <code>${deployment.id}</code></p>
<header class="run-head"><h1><code>${deployment.id}</code> ${activeBadge(deployment)}</h1>${activateForm(ctx, deployment)}</header>
<dl class="facts">
  <dt>digest</dt><dd><code>${deployment.digest}</code></dd>
  <dt>created</dt><dd>${formatTime(deployment.createdAt)}</dd>
  <dt>activated</dt><dd>${formatTime(deployment.activatedAt)}</dd>
  <dt>labels</dt><dd>${labels(deployment)}</dd>
  ${runsOf ? html`<dt>runs</dt><dd><a href="${ctx.base}/runs?deploymentId=${deployment.id}">runs of this deployment</a></dd>` : ''}
</dl>
<section><h2>Workflows</h2>
<table><thead><tr><th>name</th><th>workflow id</th></tr></thead><tbody>
${deployment.workflows.map((workflow) => html`<tr><td>${runsOf ? html`<a href="${ctx.base}/runs?deploymentId=${deployment.id}&amp;workflowName=${encodeURIComponent(workflow)}">${shortName(workflow)}</a>` : shortName(workflow)}</td><td><code>${workflow}</code></td></tr>`)}
</tbody></table></section>
<section><h2>Files</h2>
${deployment.files.length === 0
  ? html`<p class="muted">None: this deployment's code runs elsewhere.</p>`
  : html`<table><thead><tr><th>file</th><th>size</th><th>sha256</th></tr></thead><tbody>
${deployment.files.map((file) => html`<tr><td><code>${file.name}</code></td><td>${formatBytes(file.size)}</td><td><code class="hash">${file.sha256}</code></td></tr>`)}
</tbody></table>`}
</section>`
  })
}
