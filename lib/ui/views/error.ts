import { html, type Html } from '../html.js'
import { page, type PageContext } from './layout.js'

export function errorPage (ctx: PageContext, error: { statusCode: number, code: string, message: string, correlationId: string }): Html {
  return page(ctx, {
    title: `${error.statusCode} ${error.code}`,
    body: html`<section class="failure">
<h1>${error.statusCode} <code>${error.code}</code></h1>
<p>${error.message}</p>
<p class="muted">Correlation id <code>${error.correlationId}</code>${ctx.allows('GET', '/v1/audit') ? html` · <a href="${ctx.base}/audit?correlationId=${encodeURIComponent(error.correlationId)}">its audit rows</a>` : ''}</p>
<p><a href="${ctx.base}/">Back to the dashboard</a></p>
</section>`
  })
}
