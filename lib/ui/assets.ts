import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface Asset {
  body: Buffer
  contentType: string
  /** Part of the asset's URL (`?v=`), so a new version is never read from a stale cache. */
  version: string
}

const require = createRequire(import.meta.url)

function load (path: string, contentType: string): Asset {
  const body = readFileSync(path)
  return { body, contentType, version: createHash('sha256').update(body).digest('hex').slice(0, 12) }
}

/**
 * Everything the pages load, read once from the package (htmx and its SSE extension from their
 * npm packages, the stylesheet from this folder): no CDN, nothing fetched at run time.
 */
export const ASSETS: Readonly<Record<string, Asset>> = {
  'htmx.min.js': load(require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'),
  'sse.min.js': load(require.resolve('htmx-ext-sse/dist/sse.min.js'), 'text/javascript; charset=utf-8'),
  'ui.css': load(fileURLToPath(new URL('./ui.css', import.meta.url)), 'text/css; charset=utf-8')
}

export function assetUrl (base: string, name: keyof typeof ASSETS & string): string {
  return `${base}/assets/${name}?v=${ASSETS[name].version}`
}
