import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { workerPage, type ReadinessReport } from '../../../lib/ui/views/worker.js'
import { apiAnswerError } from '../../../plugins/ui.js'

const worker: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', async (request, reply) => {
    // 503 is an answer here too: the page shows what is not ready.
    const readiness = await request.callApi<ReadinessReport>('GET', '/v1/health/ready')
    if (readiness.status !== 200 && readiness.status !== 503) throw apiAnswerError(readiness)
    return reply.sendHtml(workerPage(request.uiContext(), readiness.body, readiness.status))
  })
}

export default worker
