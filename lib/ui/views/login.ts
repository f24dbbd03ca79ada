import { html, type Html } from '../html.js'
import { page, type PageContext } from './layout.js'

export function loginPage (ctx: PageContext, options: { loginToken: string, next?: string, error?: string }): Html {
  return page(ctx, {
    title: 'Sign in',
    body: html`<section class="login">
<h1>Sign in</h1>
<p>With an API key of this worker (<code>compute-worker keys create --scopes runs:read,…</code>). It is exchanged for a
session cookie once and kept nowhere in the browser; the pages offer what its scopes allow.</p>
${options.error !== undefined ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="${ctx.base}/login">
  <input type="hidden" name="_csrf" value="${options.loginToken}">
  ${options.next !== undefined ? html`<input type="hidden" name="next" value="${options.next}">` : ''}
  <label for="key">API key</label>
  <input id="key" name="key" type="password" autocomplete="off" required autofocus spellcheck="false">
  <button type="submit">Sign in</button>
</form>
</section>`
  })
}
