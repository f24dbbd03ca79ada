import { context, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api'
import type { FastifyRequest, RouteHandlerMethod } from 'fastify'
import fp from 'fastify-plugin'
import { RUN_ID_HEADER } from '../lib/headers.js'
import { contextFromCarrier, SPAN_ATTRIBUTES, startSpan, tracingActive, withCorrelation } from '../lib/observability/tracing.js'

interface RequestTrace {
  span: Span
  context: Context
}

/**
 * A SERVER span per request, the child of the caller's W3C `traceparent` when it sends one (a
 * trigger, a remote runtime's World call), active while the handler runs: the run a trigger
 * creates, and everything the runtime later does for it, belongs to that trace. Registers
 * nothing unless a tracer provider is registered when the worker is built.
 */
export default fp(async function tracingPlugin (fastify) {
  if (!tracingActive()) return
  const traces = new WeakMap<FastifyRequest, RequestTrace>()

  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.is404 ? undefined : request.routeOptions.url
    const parent = withCorrelation(contextFromCarrier(request.headers), request.correlationId)
    const started = startSpan(route === undefined ? request.method : `${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      parent,
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0],
        ...(route === undefined ? {} : { 'http.route': route })
      }
    })
    traces.set(request, started)
    context.with(started.context, done)
  })

  // Body parsing runs on stream events, outside the context the hooks ran in: the handler is
  // put back in its request's span explicitly.
  fastify.addHook('onRoute', (route) => {
    const handler = route.handler as (...args: unknown[]) => unknown
    route.handler = function tracedHandler (this: unknown, request, reply) {
      const traced = traces.get(request)
      return traced === undefined
        ? handler.call(this, request, reply)
        : context.with(traced.context, handler, this, request, reply)
    } as RouteHandlerMethod
  })

  fastify.addHook('onError', (request, _reply, error, done) => {
    const traced = traces.get(request)
    if (traced !== undefined) traced.span.recordException(error)
    done()
  })

  const end = (request: FastifyRequest, statusCode: number | undefined): void => {
    const traced = traces.get(request)
    if (traced === undefined) return
    traces.delete(request)
    if (statusCode !== undefined) traced.span.setAttribute('http.response.status_code', statusCode)
    const runId = request.headers[RUN_ID_HEADER]
    if (typeof runId === 'string') traced.span.setAttribute(SPAN_ATTRIBUTES.runId, runId)
    if (statusCode === undefined || statusCode >= 500) {
      traced.span.setStatus({ code: SpanStatusCode.ERROR, message: statusCode === undefined ? 'the client went away' : `HTTP ${statusCode}` })
    }
    traced.span.end()
  }
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode)
    done()
  })
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request, undefined)
    done()
  })
}, { name: 'compute-worker-tracing', fastify: '5.x', dependencies: ['compute-worker-correlation'] })
