import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUTHENTICATED_ERRORS } from '../../../../lib/schemas/common.js'
import { HookEntity, HookPage, ListHooksBody, ResolveData, ResolveDataQuery, WORLD_ERRORS } from '../../../../lib/schemas/world.js'

const Token = Type.String({ minLength: 1, maxLength: 2048 })

const hooks: FastifyPluginAsyncTypebox = async (fastify) => {
  // Tokens are bearer secrets: the query form keeps them out of paths, and the logger redacts both forms.
  fastify.get('/by-token', {
    schema: {
      summary: 'world.hooks.getByToken(token, params), token in the query',
      tags: ['world'],
      querystring: Type.Object({ token: Token, resolveData: Type.Optional(ResolveData) }),
      response: { 200: HookEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.getHookByToken(request.query.token, request.query.resolveData)))

  fastify.get('/by-token/:token', {
    schema: {
      summary: 'world.hooks.getByToken(token, params), token URL-encoded in the path',
      tags: ['world'],
      params: Type.Object({ token: Token }),
      querystring: ResolveDataQuery,
      response: { 200: HookEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.getHookByToken(request.params.token, request.query.resolveData)))

  fastify.get('/:hookId', {
    schema: {
      summary: 'world.hooks.get(hookId, params)',
      tags: ['world'],
      params: Type.Object({ hookId: Type.String({ minLength: 1 }) }),
      querystring: ResolveDataQuery,
      response: { 200: HookEntity, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.getHook(request.params.hookId, request.query.resolveData)))

  fastify.post('/list', {
    schema: {
      summary: 'world.hooks.list(params)',
      tags: ['world'],
      body: ListHooksBody,
      response: { 200: HookPage, ...WORLD_ERRORS, ...AUTHENTICATED_ERRORS }
    }
  }, async (request, reply) => reply.sendWorldValue(await fastify.worldLane.listHooks(request.body)))
}

export default hooks
