import type { World } from '@workflow/world'
import type { FastifyBaseLogger } from 'fastify'

/** What an executor is given when the worker starts it (before the World starts). */
export interface ComputeContext {
  world: World
  log: FastifyBaseLogger
}

/** Executes the workflow code of deployments (contract section 6). */
export interface ComputeExecutor {
  readonly kind: string
  /** Attach to the World's queue; called before `world.start()`. */
  start (context: ComputeContext): Promise<void>
  close (): Promise<void>
  /** Detail for readiness probes. */
  health? (): Record<string, unknown>
}
