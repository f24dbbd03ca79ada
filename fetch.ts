import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { ComputeWorkerOptions } from './lib/options.js'
import { FETCH_PROTOCOL_HEADER } from './plugins/https.js'
import { buildComputeWorkerApp } from './server.js'

export interface ComputeWorkerHandler {
  (request: Request): Promise<Response>
  /** The Fastify instance behind the handler. */
  readonly app: FastifyInstance
  /** Resolves once the worker is ready (World started); rejects with the start-up error. */
  ready (): Promise<void>
  /** Releases the World, the executor and SQLite. */
  close (): Promise<void>
}

const NO_BODY_STATUSES = new Set([101, 204, 205, 304])

/**
 * The worker as a fetch-style handler, `(Request) => Promise<Response>`, served through
 * `fastify.inject`: for frameworks that speak Request/Response (Next.js route handlers, Hono,
 * Bun, Deno, workers). Start-up is begun once, here; every call awaits that same promise.
 */
export function createComputeWorker (options: ComputeWorkerOptions): ComputeWorkerHandler {
  return createFetchHandler(buildComputeWorkerApp(options))
}

/** Serves a Fastify instance as `(Request) => Promise<Response>`; readies it once, now. */
export function createFetchHandler (app: FastifyInstance): ComputeWorkerHandler {
  const starting: Promise<void> = Promise.resolve(app.ready()).then(() => undefined)
  starting.catch(() => {}) // surfaced by every call and by ready(); not an unhandled rejection

  async function handle (request: Request): Promise<Response> {
    await starting
    const url = new URL(request.url)
    const headers: Record<string, string> = {}
    request.headers.forEach((value, name) => { headers[name] = value })
    headers[FETCH_PROTOCOL_HEADER] = url.protocol === 'https:' ? 'https' : 'http'
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD'
    const response = await app.inject({
      method: request.method as 'GET',
      url: url.pathname + url.search,
      headers,
      body: hasBody ? Buffer.from(await request.arrayBuffer()) : undefined,
      payloadAsStream: true,
      signal: request.signal
    })

    const responseHeaders = new Headers()
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue
      // Repeated headers (set-cookie) stay separate.
      for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, String(item))
    }
    const stream = response.stream()
    const withoutBody = NO_BODY_STATUSES.has(response.statusCode) || request.method === 'HEAD'
    if (withoutBody) stream.resume()
    return new Response(withoutBody ? null : Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
      status: response.statusCode,
      statusText: response.statusMessage,
      headers: responseHeaders
    })
  }

  return Object.assign(handle, {
    app,
    ready: () => starting,
    close: async () => { await app.close() }
  })
}
