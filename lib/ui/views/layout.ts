import { assetUrl } from '../assets.js'
import { html, type Html } from '../html.js'

/** What every page knows of the request: where the dashboard is, who is signed in, what they may do. */
export interface PageContext {
  /** `<prefix>/ui` */
  base: string
  key: { id: string, name: string | null, scopes: readonly string[] } | null
  csrfToken: string | undefined
  /** Whether the signed-in key may call this worker route (`'POST', '/v1/runs/:id/cancel'`). */
  allows (method: string, path: string): boolean
  /** A one-line result of the last action (`?notice=`), shown once. */
  notice?: string
}

export interface NavItem {
  section: string
  label: string
  href: string
  /** The route the page reads: shown only to keys it lets in. */
  reads: string
}

export function navItems (base: string): NavItem[] {
  return [
    { section: 'runs', label: 'Runs', href: `${base}/runs`, reads: '/v1/runs' },
    { section: 'deployments', label: 'Deployments', href: `${base}/deployments`, reads: '/v1/deployments' },
    { section: 'webhooks', label: 'Webhooks', href: `${base}/webhooks`, reads: '/v1/audit' },
    { section: 'audit', label: 'Audit log', href: `${base}/audit`, reads: '/v1/audit' },
    { section: 'worker', label: 'Worker', href: `${base}/worker`, reads: '/v1/health/ready' }
  ]
}

// htmx's own options: no inline styles (the CSP allows none), no eval, no script tags from swaps.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  selfRequestsOnly: true
})

/** A hidden field with the session's CSRF token, for every form that changes something. */
export function csrfField (ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken ?? ''}">`
}

export function page (ctx: PageContext, options: { title: string, section?: string, body: Html }): Html {
  const nav = ctx.key === null
    ? []
    : navItems(ctx.base).filter((item) => ctx.allows('GET', item.reads))
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${options.title} · compute-worker</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl(ctx.base, 'ui.css')}">
<script src="${assetUrl(ctx.base, 'htmx.min.js')}" defer></script>
<script src="${assetUrl(ctx.base, 'sse.min.js')}" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="${ctx.base}/">compute-worker</a>
  <nav>${nav.map((item) => html`<a href="${item.href}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a>`)}</nav>
  ${ctx.key !== null
    ? html`<div class="who">
    <span title="${ctx.key.id}">${ctx.key.name ?? ctx.key.id}</span>
    <span class="scopes">${ctx.key.scopes.map((scope) => html`<code>${scope}</code>`)}</span>
    <form method="post" action="${ctx.base}/logout">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>
  </div>`
    : ''}
</header>
<main>
${ctx.notice !== undefined ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''}
${options.body}
</main>
</body>
</html>
`
}

export function statusBadge (status: string): Html {
  return html`<span class="status status-${status}">${status}</span>`
}

/** A list page's "older" link, keeping its filters. */
export function nextPageLink (href: string, query: Record<string, string | undefined>, cursor: string | null): Html {
  if (cursor === null) return html``
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, value)
  params.set('cursor', cursor)
  return html`<a class="next" href="${href}?${params.toString()}">Older →</a>`
}
