import { STATUS_CODES } from 'node:http'
import { ErrorResponse } from '../../lib/schemas/common.js'
import { codesOfStatus } from '../errors.js'
import type { Scope } from '../../lib/scopes.js'
import { VERSION } from '../../lib/version.js'
import { STREAMING_MEDIA_EXAMPLES } from './media-examples.js'

/**
 * How the worker's OpenAPI 3.1 document is shaped from its routes (@fastify/swagger does the
 * JSON Schema → OpenAPI work; this adds what the route schemas leave implicit): the bearer
 * security requirement with the route's scope, the error responses every route can give, the
 * lane's media types, operation ids.
 */

const SECURITY_SCHEME = 'apiKey'
const REQUIRED_SCOPE_EXTENSION = 'x-required-scope'

/** What the route's config and declaration say about it (framework-free). */
export interface RouteFacts {
  /** The first of the route's methods (the operation id's). */
  method: string
  /** Whether one of its methods reads a body (POST, PUT, PATCH). */
  takesBody: boolean
  url: string
  /** False for public routes (`config.auth: false`). */
  authenticated: boolean
  scope: Scope | undefined
  rateLimited: boolean
  httpsRequired: boolean
  /** `config.idempotency`: Idempotency-Key required, answers may be replays. */
  idempotent: boolean
  /** `config.anyMediaType`: the route takes a body of any Content-Type (no 415). */
  anyMediaType: boolean
}

type Schema = Record<string, unknown>

export const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])
const LANE_MEDIA_TYPES = ['application/json', 'application/cbor']

interface SharedError {
  name: string
  /** The example shown: the status's most common code. */
  example: [code: string, message: string]
  headers?: Record<string, Schema>
}

/**
 * One response per error status, shared by every operation (`#/components/responses/…`); its
 * description lists the codes the error table gives that status.
 */
const ERROR_RESPONSES: Record<number, SharedError> = {
  400: { name: 'BadRequest', example: ['validation_error', 'body must have required property \'workflowName\''] },
  401: {
    name: 'Unauthorized',
    example: ['unauthorized', 'An API key is required: Authorization: Bearer <key>'],
    headers: { 'WWW-Authenticate': { description: 'Bearer realm="compute-worker" (with `unauthorized`)', schema: { type: 'string' } } }
  },
  403: { name: 'Forbidden', example: ['forbidden', 'This API key lacks the scope runs:read'] },
  404: { name: 'NotFound', example: ['run_not_found', 'Run wrun_01JD8Q7W3X9V2C4N6B8M0K2H4F not found'] },
  409: { name: 'Conflict', example: ['idempotency_conflict', 'This Idempotency-Key was used with another payload'] },
  410: { name: 'Gone', example: ['run_expired', 'The run has expired'] },
  412: { name: 'PreconditionFailed', example: ['precondition_failed', 'The run changed since it was read'] },
  413: { name: 'PayloadTooLarge', example: ['payload_too_large', 'Request body is too large'] },
  415: { name: 'UnsupportedMediaType', example: ['unsupported_media_type', 'Unsupported Media Type: text/plain'] },
  422: { name: 'UnprocessableEntity', example: ['run_not_supported', 'The run needs a newer World'] },
  425: { name: 'TooEarly', example: ['too_early', 'Retry later'] },
  429: {
    name: 'RateLimited',
    example: ['rate_limited', 'Rate limit of 600 requests per minute exceeded; retry in 12 seconds'],
    headers: {
      'Retry-After': { description: 'Seconds until a request is accepted again', schema: { type: 'integer' } },
      'X-RateLimit-Limit': { schema: { type: 'integer' } },
      'X-RateLimit-Remaining': { schema: { type: 'integer' } },
      'X-RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } }
    }
  },
  500: { name: 'InternalError', example: ['internal_error', 'Internal server error'] },
  501: { name: 'NotImplemented', example: ['not_implemented', 'This World does not resolve deployments'] },
  503: { name: 'NotReady', example: ['not_ready', 'The World is unavailable'] }
}

/** "`validation_error`: body, query … ; `idempotency_key_required`: …": what the table says of a status. */
function describeStatus (status: number): string | undefined {
  const codes = codesOfStatus(status)
  return codes.length === 0 ? undefined : codes.map(({ code, when }) => `\`${code}\`: ${when}`).join('; ')
}

/** Error statuses a route can answer besides those it declares, from what it is. */
function implicitErrorStatuses (facts: RouteFacts, schema: Schema): number[] {
  const statuses = new Set<number>([500])
  const validates = ['body', 'querystring', 'params', 'headers'].some((key) => schema[key] !== undefined)
  if (validates || facts.takesBody) statuses.add(400)
  if (facts.takesBody) statuses.add(413)
  if (facts.takesBody && !facts.anyMediaType) statuses.add(415)
  if (facts.url.includes('/:')) statuses.add(404)
  if (facts.authenticated) { statuses.add(401); statuses.add(403) }
  if (facts.httpsRequired) statuses.add(403)
  if (facts.rateLimited) statuses.add(429)
  return [...statuses]
}

/** `POST /v1/runs/:id/cancel` → `postV1RunsIdCancel`: stable and unique per method and path. */
function operationIdOf (method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter((word) => word !== '')
  return method.toLowerCase() + words.map((word) => word[0].toUpperCase() + word.slice(1)).join('')
}

function withRequiredHeader (headers: Schema | undefined, name: string): Schema | undefined {
  if (headers === undefined) return undefined
  const required = Array.isArray(headers.required) ? headers.required as string[] : []
  return { ...headers, required: [...new Set([...required, name])] }
}

/**
 * The schema @fastify/swagger documents for a route: the route's own, plus the security
 * requirement, the implicit error responses and the lane's media types. Used for the document
 * only: validation and serialization keep the route's schema.
 */
export function documentedSchema (facts: RouteFacts, routeSchema: Schema | undefined): Schema {
  const schema: Schema = { ...routeSchema }
  schema.operationId ??= operationIdOf(facts.method, facts.url)
  const responses: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) }
  for (const status of implicitErrorStatuses(facts, schema)) responses[status] ??= ErrorResponse
  for (const [status, response] of Object.entries(responses)) {
    const described = response as Schema
    if (described.description !== undefined || response === ErrorResponse) continue
    responses[status] = { ...described, description: describeStatus(Number(status)) ?? STATUS_CODES[status] }
  }
  schema.response = responses

  if (facts.authenticated) {
    schema.security = [{ [SECURITY_SCHEME]: facts.scope === undefined ? [] : [facts.scope] }]
    schema[REQUIRED_SCOPE_EXTENSION] = facts.scope ?? null
    const needs = facts.scope === undefined ? 'Requires an API key (any scope).' : `Requires an API key with scope \`${facts.scope}\`.`
    schema.description = typeof schema.description === 'string' ? `${needs}\n\n${schema.description}` : needs
  }
  if (facts.idempotent) {
    schema.headers = withRequiredHeader(schema.headers as Schema | undefined, 'idempotency-key')
    for (const [status, response] of Object.entries(responses)) {
      if (!status.startsWith('2')) continue
      responses[status] = {
        ...(response as Schema),
        headers: { 'idempotent-replayed': { type: 'string', enum: ['true'], description: 'Present on a replay of the first answer' } }
      }
    }
  }
  if (facts.scope === 'world:proxy') {
    schema.consumes ??= LANE_MEDIA_TYPES
    schema.produces ??= LANE_MEDIA_TYPES
  }
  return schema
}

/** The document's fixed parts: info, the security scheme, tags, the shared error responses. */
export function baseDocument (): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: '@workflow-studio/compute-worker',
      version: VERSION,
      description: 'Stores, triggers and executes durable workflows written with the Workflow SDK.\n\n' +
        '**Authentication**: `Authorization: Bearer <key>` on every route but the health probes, this document and ' +
        'provider webhooks. Each operation names the scope its key needs (security requirement, `x-required-scope`, ' +
        'and the first line of its description); a missing or unknown key is 401, a key without the scope 403.\n\n' +
        '**Errors** are JSON `{ code, message, correlationId, ...details }` (`ErrorResponse`). Every response carries ' +
        '`x-workflow-correlation-id` (the caller\'s, or a generated UUID).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
    },
    components: {
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'cw_ API key',
          description: 'An API key (`compute-worker keys create --scopes …`). The scope each operation needs is listed ' +
            'in its security requirement (OpenAPI 3.1 role names) and in `x-required-scope`.'
        }
      },
      schemas: {}
    },
    tags: [
      { name: 'runs', description: 'Trigger (idempotently), read, list, cancel and resume runs' },
      { name: 'deployments', description: 'Workflow SDK builds and the active pointer' },
      { name: 'webhooks', description: 'Provider webhooks, authenticated by signature' },
      { name: 'audit', description: 'The audit log (`audit:read`): every mutating request and provider delivery' },
      { name: 'health', description: 'Probes: no key, no rate limit, plain HTTP allowed' },
      { name: 'world', description: 'Internal lane (`world:proxy`): the World over HTTP for a runtime elsewhere; tagged JSON or CBOR' },
      {
        name: 'internal',
        description: "The executor's queue deliveries, for Worlds that deliver over HTTP: from this machine (loopback) or with " +
          'the delivery secret (`Authorization: Bearer` or `x-workflow-delivery-secret`) only; not for API clients'
      },
      { name: 'operations', description: 'For operators\' tools: Prometheus metrics (`metrics:read`)' },
      { name: 'meta', description: 'This document' }
    ]
  }
}

interface MediaObject { schema?: Schema, example?: unknown, examples?: Record<string, unknown> }
interface Parameter { required?: boolean, schema?: Schema }
interface OperationObject {
  parameters?: Parameter[]
  requestBody?: { content: Record<string, MediaObject> }
  responses?: Record<string, { content?: Record<string, MediaObject> } | { $ref: string }>
}

const ERROR_TITLE = (ErrorResponse as { title?: string }).title

function isErrorResponseSchema (schema: Schema | undefined): boolean {
  return schema !== undefined && schema.title === ERROR_TITLE
}

function operationsOf (document: Schema): OperationObject[] {
  return Object.values(document.paths as Record<string, Record<string, OperationObject>>).flatMap((item) => Object.values(item))
}

/**
 * Error responses become references to the shared ones (`#/components/responses/Unauthorized` …),
 * whose description lists the codes of that status; `ErrorResponse` becomes a named schema.
 */
const ERROR_SCHEMA_REF = { $ref: '#/components/schemas/ErrorResponse' }

function shareErrorResponses (document: Schema): void {
  const components = document.components as { schemas: Record<string, unknown>, responses?: Record<string, unknown> }
  const used = new Set<number>()
  for (const operation of operationsOf(document)) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      const shared = ERROR_RESPONSES[Number(status)]
      if (shared === undefined || '$ref' in response) continue
      // Errors are always JSON, whatever the route produces otherwise.
      if (Object.values(response.content ?? {}).some((media) => isErrorResponseSchema(media.schema))) {
        operation.responses![status] = { $ref: `#/components/responses/${shared.name}` }
        used.add(Number(status))
        continue
      }
      // A route that answers either the worker's error or a shape of its own (the SDK's): the
      // worker's one by reference.
      for (const media of Object.values(response.content ?? {})) {
        const members = media.schema?.anyOf
        if (Array.isArray(members)) media.schema!.anyOf = members.map((member: Schema) => isErrorResponseSchema(member) ? ERROR_SCHEMA_REF : member)
      }
    }
  }
  components.schemas.ErrorResponse = JSON.parse(JSON.stringify(ErrorResponse))
  components.responses = Object.fromEntries([...used].sort().map((status) => {
    const { name, headers, example: [code, message] } = ERROR_RESPONSES[status]
    return [name, {
      description: describeStatus(status) ?? STATUS_CODES[status],
      ...(headers !== undefined ? { headers } : {}),
      content: {
        'application/json': {
          schema: ERROR_SCHEMA_REF,
          example: { code, message, correlationId: 'b3f1c2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d' }
        }
      }
    }]
  }))
}

/**
 * A union of single-value enums of one type (TypeBox's `Union([Literal('a'), Literal('b')])`)
 * becomes one enum: the same values, and a list the UI can render as a choice.
 */
function collapseLiteralUnions (node: unknown): void {
  if (typeof node !== 'object' || node === null) return
  for (const child of Object.values(node)) collapseLiteralUnions(child)
  const schema = node as Schema
  const members = schema.anyOf
  if (!Array.isArray(members) || members.length < 2) return
  const literal = (member: Schema) => Array.isArray(member.enum) && member.enum.length === 1 &&
    Object.keys(member).every((key) => key === 'type' || key === 'enum')
  const type = (members[0] as Schema).type
  if (!members.every((member: Schema) => literal(member) && member.type === type)) return
  delete schema.anyOf
  schema.type = type
  schema.enum = members.map((member: Schema) => (member.enum as unknown[])[0])
}

/** A request value with a default may be left out by the caller: not required in the document. */
function relaxDefaults (node: unknown): void {
  if (typeof node !== 'object' || node === null) return
  for (const child of Object.values(node)) relaxDefaults(child)
  const schema = node as Schema
  const properties = schema.properties as Record<string, Schema> | undefined
  if (!Array.isArray(schema.required) || properties === undefined) return
  schema.required = (schema.required as string[]).filter((name) => properties[name]?.default === undefined)
  if ((schema.required as string[]).length === 0) delete schema.required
}

function relaxRequestDefaults (document: Schema): void {
  for (const operation of operationsOf(document)) {
    for (const parameter of operation.parameters ?? []) {
      if (parameter.schema?.default !== undefined) parameter.required = false
    }
    for (const media of Object.values(operation.requestBody?.content ?? {})) relaxDefaults(media.schema)
  }
}

/** Only the tags some operation uses (a tag whose routes are not registered would show empty). */
function dropUnusedTags (document: Schema): void {
  const used = new Set(operationsOf(document).flatMap((operation) => (operation as { tags?: string[] }).tags ?? []))
  document.tags = (document.tags as Array<{ name: string }>).filter((tag) => used.has(tag.name))
}

/**
 * @fastify/swagger gives every method of a multi-method route the same operation object: each
 * gets its own, with an operation id of its own.
 */
function separateMethods (document: Schema): void {
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, OperationObject & { operationId?: string }>>)) {
    const seen = new Set<object>()
    for (const [method, operation] of Object.entries(item)) {
      if (!seen.has(operation)) {
        seen.add(operation)
        continue
      }
      item[method] = { ...operation, operationId: operationIdOf(method, path) }
    }
  }
}

/**
 * Bodies no schema describes (live streams, raw bytes) get their examples by media type. The
 * media object is replaced, not changed: @fastify/swagger gives every media type of a body one
 * shared object, whose JSON example (a stream write's JSON form) is no example of raw bytes.
 */
function exampleStreamingMedia (document: Schema): void {
  for (const operation of operationsOf(document)) {
    const contents = [operation.requestBody?.content, ...Object.values(operation.responses ?? {}).map((response) => 'content' in response ? response.content : undefined)]
    for (const content of contents) {
      for (const [type, media] of Object.entries(content ?? {})) {
        const examples = STREAMING_MEDIA_EXAMPLES[type]
        if (examples !== undefined) content![type] = { schema: media.schema, examples }
      }
    }
  }
}

/** The last pass over the generated document (`transformObject`). */
export function finishDocument (document: Schema): Schema {
  separateMethods(document)
  shareErrorResponses(document)
  exampleStreamingMedia(document)
  collapseLiteralUnions(document.paths)
  relaxRequestDefaults(document)
  dropUnusedTags(document)
  return document
}
