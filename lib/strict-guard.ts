export class StrictRemoteGuardError extends Error {
  constructor (expected: string, actual: string) {
    super(`Strict remote guard: NODE_ENV=production expects WORKFLOW_TARGET_WORLD="${expected}", but it is "${actual}"`)
    this.name = 'StrictRemoteGuardError'
  }
}

export interface StrictGuardInput {
  nodeEnv: string | undefined
  expectedTargetWorld: string | undefined
  targetWorld: string
  warn: (message: string) => void
}

/**
 * In production the World must be the one the operator expects: a worker that silently fell
 * back to the embedded world would accept runs that no other worker ever sees.
 */
export function enforceStrictRemoteGuard (input: StrictGuardInput): void {
  if (input.nodeEnv !== 'production') return
  if (input.expectedTargetWorld === undefined) {
    input.warn('NODE_ENV=production without an expected target world (COMPUTE_WORKER_EXPECTED_TARGET_WORLD): ' +
      `the worker runs on WORKFLOW_TARGET_WORLD="${input.targetWorld}" unchecked`)
    return
  }
  if (input.targetWorld !== input.expectedTargetWorld) {
    throw new StrictRemoteGuardError(input.expectedTargetWorld, input.targetWorld)
  }
}
