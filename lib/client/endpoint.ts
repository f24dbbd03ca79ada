export type Query = Record<string, string | number | undefined>

/** A worker's URL and key as both clients take them, checked; the URL loses trailing slashes, keeps a path prefix. */
export function checkedEndpoint (options: { baseUrl?: unknown, apiKey?: unknown } | undefined, who: string): { baseUrl: string, apiKey: string } {
  if (typeof options?.baseUrl !== 'string' || options.baseUrl === '') throw new TypeError(`${who}: baseUrl is required`)
  if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError(`${who}: apiKey is required`)
  return { baseUrl: options.baseUrl.replace(/\/+$/, ''), apiKey: options.apiKey }
}

/** `baseUrl` + `path` + the query's defined members. */
export function endpointUrl (baseUrl: string, path: string, query: Query = {}): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value))
  const text = search.toString()
  return `${baseUrl}${path}${text === '' ? '' : `?${text}`}`
}
