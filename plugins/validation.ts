import { AjvCompiler } from '@fastify/ajv-compiler'
import type { AnySchema } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Request bodies are validated as they are: a field the schema does not allow is a 400, not
 * silently dropped (a misspelled `deploymentID` would otherwise trigger on the active deployment,
 * and two payloads differing in it would share an idempotency fingerprint), and `42` is not the
 * string "42". Query strings, params and headers arrive as text: they keep Fastify's coercion.
 */
export default fp(async function validationPlugin (fastify) {
  const compilerFor = AjvCompiler()
  const asSent = compilerFor({}, { customOptions: { removeAdditional: false, coerceTypes: false } })
  const fromText = compilerFor({}, { customOptions: {} })
  const compile: FastifySchemaCompiler<AnySchema> = (route) => (route.httpPart === 'body' ? asSent : fromText)(route)
  fastify.setValidatorCompiler(compile)
}, { name: 'compute-worker-validation', fastify: '5.x' })
