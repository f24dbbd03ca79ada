import type { FastifyInstance } from 'fastify'
import { CBOR_MEDIA_TYPE, JSON_MEDIA_TYPE, decodeCbor, decodeTaggedJson, encodeBody, type WireEncoding } from '../lib/wire/codec.js'
import { KEYS, bearer } from './helper.js'

export interface LaneAnswer {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  body: any
}

/** One internal-lane request through `inject`, encoded and decoded with the lane's codec. */
export async function lane (
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  options: { encoding?: WireEncoding, key?: string, headers?: Record<string, string> } = {}
): Promise<LaneAnswer> {
  const encoding = options.encoding ?? 'json'
  const type = encoding === 'cbor' ? CBOR_MEDIA_TYPE : JSON_MEDIA_TYPE
  const response = await app.inject({
    method,
    url,
    headers: {
      ...bearer(options.key ?? KEYS.worldProxy),
      accept: type,
      ...(body === undefined ? {} : { 'content-type': type }),
      ...options.headers
    },
    payload: body === undefined ? undefined : encodeBody(body, encoding)
  })
  const contentType = String(response.headers['content-type'] ?? '')
  const decoded = response.rawPayload.length === 0
    ? undefined
    : contentType.startsWith(CBOR_MEDIA_TYPE) ? decodeCbor(response.rawPayload) : decodeTaggedJson(response.body)
  return { status: response.statusCode, headers: response.headers, body: decoded }
}

/** A run_created request as the SDK's start() sends it. */
export function runCreated (input: Uint8Array = new Uint8Array([100, 101, 118, 108, 1, 2, 3]), deploymentId = 'dpl_test') {
  return {
    eventType: 'run_created',
    specVersion: 3,
    eventData: { deploymentId, workflowName: 'workflow//./workflows/demo//greet', input, executionContext: { workflowCoreVersion: '4.8.9' } }
  }
}

/** Creates a run through the lane (the World makes the id) and returns its id. */
export async function createRun (app: FastifyInstance, input?: Uint8Array): Promise<string> {
  const answer = await lane(app, 'POST', '/v1/world/events/create', { runId: null, data: runCreated(input) })
  if (answer.status !== 200) throw new Error(`run_created answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body.run.runId
}
