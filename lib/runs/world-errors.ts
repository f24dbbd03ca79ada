import { HookNotFoundError, WorkflowRunNotFoundError } from '@workflow/errors'
import type { World, WorkflowRun, WorkflowRunWithoutData } from '@workflow/world'
import { ApiError } from '../errors.js'

export function runNotFound (runId: string): ApiError {
  return new ApiError(404, 'run_not_found', `Run ${runId} does not exist`)
}

/** `runs.get` with the World's not-found turned into 404 `run_not_found`. */
export async function getRun (world: World, runId: string, resolveData: 'all' | 'none'): Promise<WorkflowRun | WorkflowRunWithoutData> {
  try {
    return await world.runs.get(runId, { resolveData })
  } catch (error) {
    if (WorkflowRunNotFoundError.is(error)) throw runNotFound(runId)
    throw error
  }
}

export function isHookNotFound (error: unknown): boolean {
  return HookNotFoundError.is(error)
}
