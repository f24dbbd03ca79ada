import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ApiError } from '../../../lib/errors.js'
import type { EventList, Run, RunEvent, RunHook, RunList } from '../../../lib/schemas/runs.js'
import { runOutputStream } from '../../../lib/ui/output-stream.js'
import { buildTimeline } from '../../../lib/ui/timeline.js'
import { runPage, runsPage } from '../../../lib/ui/views/runs.js'
import { apiAnswerError } from '../../../plugins/ui.js'

const Filter = Type.Optional(Type.String({ maxLength: 1024 }))
const RunsQuery = Type.Object({ status: Filter, workflowName: Filter, deploymentId: Filter, cursor: Filter, done: Filter })
const RunParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) })
const HookParams = Type.Object({ id: RunParams.properties.id, hookId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) })
const CsrfForm = Type.Object({ _csrf: Type.String({ maxLength: 128 }) }, { additionalProperties: false })
const ResumeForm = Type.Object({ _csrf: Type.String({ maxLength: 128 }), payload: Type.String({ maxLength: 1024 * 1024 }) }, { additionalProperties: false })

// A run page draws at most this many events (ten pages of the route's largest).
const EVENT_PAGES = 10
const EVENTS_PER_PAGE = 1000

/** The query string of the page's own filters, as the API takes them: empty fields left out. */
function apiQuery (query: Record<string, string | undefined>, names: readonly string[]): URLSearchParams {
  const params = new URLSearchParams()
  for (const name of names) {
    const value = query[name]?.trim()
    if (value !== undefined && value !== '') params.set(name, value)
  }
  return params
}

async function readEvents (request: FastifyRequest, runId: string): Promise<{ events: RunEvent[], truncated: boolean }> {
  const events: RunEvent[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < EVENT_PAGES; pages++) {
    const page: EventList = await request.readApi(`/v1/runs/${runId}/events?limit=${EVENTS_PER_PAGE}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    events.push(...page.data)
    if (!page.hasMore || page.cursor === null) return { events, truncated: false }
    cursor = page.cursor
  }
  return { events, truncated: true }
}

const runs: FastifyPluginAsyncTypebox = async (fastify) => {
  const base = fastify.uiSite.base

  fastify.get('/', { schema: { querystring: RunsQuery } }, async (request, reply) => {
    const params = apiQuery(request.query, ['status', 'workflowName', 'deploymentId', 'cursor'])
    const list: RunList = await request.readApi(`/v1/runs?${params.toString()}`)
    const query = Object.fromEntries(params) as Record<string, string>
    return reply.sendHtml(runsPage(request.uiContext(), { runs: list, query, selfUrl: request.url }))
  })

  fastify.get('/:id', { schema: { params: RunParams, querystring: Type.Object({ done: Filter }) } }, async (request, reply) => {
    const runId = request.params.id
    const run: Run = await request.readApi(`/v1/runs/${runId}`)
    const [{ events, truncated }, hooks] = await Promise.all([
      readEvents(request, runId),
      request.callApi<{ data: RunHook[] }>('GET', `/v1/runs/${runId}/hooks?limit=100`)
    ])
    return reply.sendHtml(runPage(request.uiContext(), {
      run,
      events,
      eventsTruncated: truncated,
      hooks: hooks.status === 200 ? hooks.body.data : undefined,
      timeline: buildTimeline(run, events, Date.now()),
      selfUrl: `${base}/runs/${runId}`
    }))
  })

  fastify.get('/:id/stream', {
    schema: { params: RunParams, querystring: Type.Object({ format: Type.Optional(Type.Literal('text')) }) }
  }, async (request, reply) => {
    const lastEventId = request.headers['last-event-id']
    const startIndex = typeof lastEventId === 'string' && /^\d{1,9}$/.test(lastEventId) ? Number(lastEventId) + 1 : 0
    const aborted = new AbortController()
    request.raw.once('close', () => { aborted.abort() })
    const answer = await request.streamApi(`/v1/runs/${request.params.id}/stream?startIndex=${startIndex}`, { accept: 'application/x-ndjson' }, aborted.signal)
    if (answer.status !== 200) {
      let text = ''
      for await (const chunk of answer.stream) text += String(chunk)
      throw apiAnswerError({ status: answer.status, body: JSON.parse(text || '{}') })
    }
    const format = request.query.format === 'text' ? 'text' : 'sse'
    const body = runOutputStream(answer.stream, format, { onError: (error) => request.log.warn({ err: error }, 'ui: run stream failed') })
    reply.raw.once('pipe', () => { reply.raw.flushHeaders() })
    return await reply
      .header('content-type', format === 'sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(body)
  })

  fastify.post('/:id/cancel', { schema: { params: RunParams, body: CsrfForm } }, async (request, reply) => {
    const answer = await request.callApi('POST', `/v1/runs/${request.params.id}/cancel`)
    if (answer.status !== 200) throw apiAnswerError(answer)
    return await reply.redirect(`${base}/runs/${request.params.id}?done=cancelled`, 303)
  })

  fastify.post('/:id/hooks/:hookId/resume', { schema: { params: HookParams, body: ResumeForm } }, async (request, reply) => {
    let payload: unknown
    try {
      payload = JSON.parse(request.body.payload)
    } catch (error) {
      throw new ApiError(400, 'validation_error', `The payload is not JSON: ${(error as Error).message}`, {
        details: { validation: [{ in: 'body', path: '/payload', message: 'must be JSON' }] }
      })
    }
    const { id, hookId } = request.params
    const answer = await request.callApi('POST', `/v1/runs/${id}/hooks/${hookId}/resume`, { payload })
    if (answer.status !== 200) throw apiAnswerError(answer)
    return await reply.redirect(`${base}/runs/${id}?done=resumed`, 303)
  })
}

export default runs
