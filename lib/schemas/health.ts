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
