import { Type, type Static } from 'typebox'

const OkOrUnavailable = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')])

export const WorldHealth = Type.Object({
  status: OkOrUnavailable,
  target: Type.String({ description: 'WORKFLOW_TARGET_WORLD the worker runs on' }),
  specVersion: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
  checkedAt: Type.String({ format: 'date-time' })
})

const HealthFields = {
  version: Type.String(),
  world: WorldHealth,
  database: OkOrUnavailable
}

/** The error fields of a 503 probe answer, before the probe's own report. */
const NotReadyFields = {
  code: Type.Literal('not_ready'),
  message: Type.String(),
  correlationId: Type.String(),
  status: Type.Literal('unavailable')
}

export const HealthResponse = Type.Object({ status: OkOrUnavailable, ...HealthFields }, {
  examples: [{
    status: 'ok',
    version: '0.1.0',
    world: { status: 'ok', target: 'local', specVersion: 3, checkedAt: '2026-01-15T09:30:00.000Z' },
    database: 'ok'
  }]
})

export const HealthUnavailableResponse = Type.Object({ ...NotReadyFields, ...HealthFields })

/** The 200 answers of the three probes. */
export type HealthReport = Static<typeof HealthResponse>

export const LivenessResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  uptimeSeconds: Type.Number({ description: 'Seconds since the process started' })
}, { examples: [{ status: 'ok', version: '0.1.0', uptimeSeconds: 86400 }] })

const CheckStatus = Type.Object({
  status: OkOrUnavailable,
  kind: Type.Optional(Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { description: 'Where the control plane is' })),
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
}, {
  examples: [{
    status: 'ok',
    version: '0.1.0',
    checks: {
      world: { status: 'ok', target: 'local', specVersion: 3, checkedAt: '2026-01-15T09:30:00.000Z' },
      database: { status: 'ok', kind: 'sqlite', checkedAt: '2026-01-15T09:30:00.001Z' },
      compute: {
        status: 'ok',
        kind: 'in-process',
        detail: { kind: 'in-process', ready: true, loaded: ['dpl_01JD8Q5R1T7Y3V9K5N1P7A3S9D'], loads: 1, crashes: 0, failedLoads: [] }
      }
    }
  }]
})

export const NotReadyResponse = Type.Object({ ...NotReadyFields, version: Type.String(), checks: ReadinessChecks })

export type Liveness = Static<typeof LivenessResponse>
export type Readiness = Static<typeof ReadinessResponse>
