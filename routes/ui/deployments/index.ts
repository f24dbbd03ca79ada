import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { DeploymentList, DeploymentView } from '../../../lib/schemas/deployments.js'
import { deploymentPage, deploymentsPage } from '../../../lib/ui/views/deployments.js'
import { apiAnswerError } from '../../../plugins/ui.js'

const Text = Type.Optional(Type.String({ maxLength: 2048 }))
const DeploymentParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
const CsrfForm = Type.Object({ _csrf: Type.String({ maxLength: 128 }) }, { additionalProperties: false })

const deployments: FastifyPluginAsyncTypebox = async (fastify) => {
  const base = fastify.uiSite.base

  fastify.get('/', { schema: { querystring: Type.Object({ cursor: Text, done: Text }) } }, async (request, reply) => {
    const cursor = request.query.cursor === '' ? undefined : request.query.cursor
    const list: DeploymentList = await request.readApi(`/v1/deployments${cursor !== undefined ? `?cursor=${encodeURIComponent(cursor)}` : ''}`)
    return reply.sendHtml(deploymentsPage(request.uiContext(), { deployments: list, cursor }))
  })

  fastify.get('/:id', { schema: { params: DeploymentParams, querystring: Type.Object({ done: Text }) } }, async (request, reply) => {
    const deployment: DeploymentView = await request.readApi(`/v1/deployments/${request.params.id}`)
    return reply.sendHtml(deploymentPage(request.uiContext(), deployment))
  })

  fastify.post('/:id/activate', { schema: { params: DeploymentParams, body: CsrfForm } }, async (request, reply) => {
    const answer = await request.callApi('POST', `/v1/deployments/${request.params.id}/activate`)
    if (answer.status !== 200) throw apiAnswerError(answer)
    return await reply.redirect(`${base}/deployments/${request.params.id}?done=activated`, 303)
  })
}

export default deployments
