import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { deploymentBodyLimit } from '../../../lib/deployments/files.js'
import { DomainError } from '../../../lib/errors.js'
import { AUTHENTICATED_ERRORS, ErrorResponse } from '../../../lib/schemas/common.js'
import { CreateDeploymentBody, Deployment, DeploymentList, DeploymentParams, ListQuery } from '../../../lib/schemas/deployments.js'

const tags = ['deployments']

const deployments: FastifyPluginAsyncTypebox = async (fastify) => {
  const { maxDeploymentBytes } = fastify.workerConfig

  fastify.post('/', {
    bodyLimit: deploymentBodyLimit(maxDeploymentBytes),
    config: { scope: 'deploy:write', audit: 'deployments.create' },
    schema: {
      tags,
      summary: 'Upload a deployment: a Workflow SDK manifest and, optionally, its bundles (base64)',
      body: CreateDeploymentBody,
      response: { 201: Deployment, 400: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => {
    const deployment = await fastify.deployments.create({ ...request.body, createdByKeyId: request.callerKey?.id }, maxDeploymentBytes)
    request.auditFacts = { target: deployment.id, metadata: { digest: deployment.digest, files: deployment.files.length } }
    return reply.code(201).send(deployment)
  })

  fastify.get('/', {
    config: { scope: 'deploy:read' },
    schema: {
      tags,
      summary: 'List deployments, newest first',
      querystring: ListQuery,
      response: { 200: DeploymentList, 400: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (request) => await fastify.deployments.list(request.query.limit, request.query.cursor))

  fastify.get('/active', {
    // Here the active pointer is the resource read: its absence is a 404, not the trigger's 409.
    config: { scope: 'deploy:read', errorStatus: { no_active_deployment: 404 } },
    schema: {
      tags,
      summary: 'The active deployment (the one triggers use without a deploymentId)',
      response: { 200: Deployment, 404: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async () => {
    const active = await fastify.deployments.getActive()
    if (active === undefined) throw new DomainError('no_active_deployment', 'No deployment is active')
    return active
  })

  fastify.get('/:id', {
    config: { scope: 'deploy:read' },
    schema: {
      tags,
      summary: 'A deployment',
      params: DeploymentParams,
      response: { 200: Deployment, 400: ErrorResponse, 404: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (request) => await fastify.deployments.require(request.params.id))

  fastify.post('/:id/activate', {
    config: { scope: 'deploy:write', audit: 'deployments.activate' },
    schema: {
      tags,
      summary: 'Make this deployment the active one (runs already started keep theirs)',
      params: DeploymentParams,
      response: { 200: Deployment, 400: ErrorResponse, 404: ErrorResponse, ...AUTHENTICATED_ERRORS }
    }
  }, async (request) => {
    request.auditFacts = { target: request.params.id }
    const previous = await fastify.deployments.activeId()
    const deployment = await fastify.deployments.activate(request.params.id)
    request.auditFacts.metadata = { previous: previous ?? null }
    return deployment
  })
}

export default deployments
