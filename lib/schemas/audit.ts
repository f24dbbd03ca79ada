import { Type, type Static } from 'typebox'
import { RUN_ID } from './examples.js'
import { PageOf, pageQuery } from './page.js'

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorKeyId: Type.Union([Type.String(), Type.Null()], { description: 'The API key that acted; null for provider webhooks and unauthenticated refusals' }),
  action: Type.String({ description: '`runs.trigger`, `runs.cancel`, `runs.resume`, `deployments.create`, `deployments.activate`, `webhook.receive`, `ui.sign_in`, `world.*` …' }),
  target: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String({ description: '`success`, `failure`, `denied`, `duplicate`; webhooks: `accepted`, `duplicate`, `refused`, `failed`' }),
  metadata: Type.Object({
    correlationId: Type.String(),
    runId: Type.Optional(Type.String())
  }, { additionalProperties: true, description: 'The correlation id, the run id and the facts of the action (status code, error code, provider, delivery id …)' }),
  worker: Type.Union([Type.String(), Type.Null()], { description: 'The worker that wrote the row (`COMPUTE_WORKER_NAME`); null on rows written before workers were named' })
}, { title: 'AuditRecord' })
export type AuditRecord = Static<typeof AuditRecord>

const example = {
  id: 42,
  at: '2026-01-15T09:30:00.010Z',
  actorKeyId: 'key_3Vq9WmR2xK7pLs1TnB4e',
  action: 'runs.trigger',
  target: 'workflow//./workflows/order//processOrder',
  outcome: 'success',
  metadata: { correlationId: '2f1c9d52-8a3e-4b7f-9c1d-6e5a4b3c2d1e', runId: RUN_ID, statusCode: 202, idempotencyKey: 'order-42' },
  worker: 'worker-a:8080'
}

export const AuditPage = PageOf(AuditRecord, { examples: [{ data: [example], cursor: null, hasMore: false }] })
export type AuditPage = Static<typeof AuditPage>

export const AuditQuery = Type.Object({
  correlationId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Rows of one request chain (x-workflow-correlation-id)' })),
  actorKeyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Rows of one API key (its id, `key_…`)' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Rows of one action (`webhook.receive`: provider deliveries)' })),
  ...pageQuery(200, 50)
})
