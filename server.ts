import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { computeWorkerPlugin, kRequestIdIsCorrelationId, kResolvedOptions, prepareOptions, type ComputeWorkerPluginOptions } from './app.js'
import { correlationRequestId } from './plugins/correlation.js'
import { loggerOptions } from './lib/logging.js'
import type { ComputeWorkerOptions } from './lib/options.js'
import { computeWorkerServerOptions } from './server-options.js'

/** Largest body any route accepts; routes set tighter limits of their own. */
const MAX_BODY_BYTES = 128 * 1024 * 1024
/** How often a closing server looks for connections that went idle. */
const IDLE_SWEEP_MS = 100

/**
 * Node's `server.close()` closes the keep-alive connections idle at that moment; two kinds escape
 * it and would hold the close. A connection busy then stays open once answered, for Fastify's
 * keepAliveTimeout (72 s); one that never sent a request (a client's spare keep-alive socket) is
 * not idle to Node at all and stays until its client hangs up. Once the close begins, both are
 * closed as soon as they carry no request; requests in flight finish.
 */
function closeConnectionsOnceIdle (server: Server): void {
  const unused = new Set<Socket>()
  // Over TLS a request's socket is the TLS socket, which 'secureConnection' gives.
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    unused.add(socket)
    socket.once('close', () => unused.delete(socket))
  })
  server.on('request', (request: IncomingMessage) => { unused.delete(request.socket) })
  const close = server.close.bind(server)
  server.close = function closeOnceIdle (callback?: (error?: Error) => void) {
    if (server.listening) {
      const sweep = (): void => {
        for (const socket of unused) socket.destroy()
        server.closeIdleConnections()
      }
      const timer = setInterval(sweep, IDLE_SWEEP_MS)
      server.once('close', () => { clearInterval(timer) })
      setImmediate(sweep)
    }
    return close(callback)
  }
}

/**
 * A Fastify instance with the worker registered at its root: what every standalone front runs.
 * Options are validated (and the strict guard applied) synchronously, so a bad start-up throws here.
 */
export function buildComputeWorkerApp (
  options: ComputeWorkerOptions,
  serverOptions: Partial<FastifyServerOptions> = {}
): FastifyInstance {
  const logger = options.logger === undefined || options.logger === false
    ? false
    : options.logger === true ? loggerOptions() : { ...loggerOptions(), ...options.logger }
  const warnings: string[] = []
  const config = prepareOptions(options, (message) => warnings.push(message))
  const app = Fastify({
    logger,
    genReqId: correlationRequestId,
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    trustProxy: config.trustProxy,
    bodyLimit: MAX_BODY_BYTES,
    // plugins/closing.ts answers those requests as the worker's JSON error (503 not_ready).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ...computeWorkerServerOptions,
    ...serverOptions
  } as FastifyServerOptions)
  for (const message of warnings) app.log.warn(message)
  closeConnectionsOnceIdle(app.server)
  app.register(rootWorkerPlugin, { ...options, [kRequestIdIsCorrelationId]: true, [kResolvedOptions]: config })
  return app
}

// The standalone instance belongs to the worker alone, so its decorators, error and 404 handlers
// sit at the root. A fresh function is wrapped: fp() would mark computeWorkerPlugin itself.
const rootWorkerPlugin = fp<ComputeWorkerPluginOptions>(async function standaloneComputeWorker (fastify, opts) {
  await computeWorkerPlugin.call(fastify, fastify, opts)
}, { name: 'compute-worker-standalone', fastify: '5.x' })

/**
 * A Node `http.Server` serving the worker. It carries the same app as `createComputeWorker`,
 * on Fastify's own request path (no inject round trip); requests wait until the app is ready.
 * Closing the server closes the app (World, executor, SQLite).
 */
export function createNodeComputeWorkerServer (options: ComputeWorkerOptions): Server {
  let server: Server | undefined
  const app = buildComputeWorkerApp(options, {
    serverFactory: (handler) => {
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        ready.then(() => handler(req, res), (error: Error) => {
          res.writeHead(503, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ code: 'not_ready', message: `The worker failed to start: ${error.message}`, correlationId: correlationRequestId(req) }))
        })
      })
      return server
    }
  })
  const ready: Promise<unknown> = Promise.resolve(app.ready())
  ready.catch((error) => app.log.error({ err: error }, 'compute worker failed to start'))
  if (server === undefined) throw new Error('Fastify did not call the server factory')
  const nodeServer = server
  const closeServer = nodeServer.close.bind(nodeServer)
  let closing: Promise<void> | undefined
  // Stop accepting, let in-flight requests finish, then release the World, executor and SQLite.
  nodeServer.close = function close (callback?: (error?: Error) => void) {
    closing ??= new Promise<void>((resolve) => {
      if (nodeServer.listening) closeServer(() => resolve())
      else resolve()
    }).then(() => app.close())
    closing.then(() => callback?.(), (error: Error) => callback?.(error))
    return nodeServer
  }
  return nodeServer
}

export interface StartedComputeWorkerServer {
  server: Server
  url: string
  app: FastifyInstance
  close: () => Promise<void>
}

/** Starts the worker on `port` (0 picks a free one) and resolves once it is listening. */
export async function startNodeComputeWorkerServer (
  options: ComputeWorkerOptions & { port?: number, host?: string }
): Promise<StartedComputeWorkerServer> {
  const { port = 8080, host = '127.0.0.1', ...workerOptions } = options
  const app = buildComputeWorkerApp(workerOptions)
  try {
    await app.listen({ port, host })
  } catch (error) {
    await app.close().catch(() => {})
    throw error
  }
  const address = app.server.address() as AddressInfo
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    server: app.server,
    app,
    url: `http://${hostForUrl}:${address.port}`,
    close: async () => { await app.close() }
  }
}
