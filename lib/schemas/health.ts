import { Type } from 'typebox'

export const WorldHealth = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  target: Type.String({ description: 'WORKFLOW_TARGET_WORLD the worker runs on' }),
  specVersion: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
  checkedAt: Type.String({ format: 'date-time' })
})

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  version: Type.String(),
  world: WorldHealth,
  database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])
})

export const HealthUnavailableResponse = Type.Object({
  code: Type.Literal('not_ready'),
  message: Type.String(),
  correlationId: Type.String(),
  status: Type.Literal('unavailable'),
  version: Type.String(),
  world: WorldHealth,
  database: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])
})

export const LivenessResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  uptimeSeconds: Type.Number({ description: 'Seconds since the process started' })
})

const CheckStatus = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  error: Type.Optional(Type.String()),
  checkedAt: Type.String({ format: 'date-time' })
})

const ComputeStatus = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable'), Type.Literal('none')], {
    description: '`none`: this worker runs no executor (COMPUTE_WORKER_COMPUTE=none)'
  }),
  kind: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Object({}, { additionalProperties: true, description: "The executor's own health() report" }))
})

const ReadinessChecks = Type.Object({
  world: WorldHealth,
  database: CheckStatus,
  compute: ComputeStatus
})

export const ReadinessResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  checks: ReadinessChecks
})

export const NotReadyResponse = Type.Object({
  code: Type.Literal('not_ready'),
  message: Type.String(),
  correlationId: Type.String(),
  status: Type.Literal('unavailable'),
  version: Type.String(),
  checks: ReadinessChecks
})
