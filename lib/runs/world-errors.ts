import { HookNotFoundError } from '@workflow/errors'
import type { World, WorkflowRun, WorkflowRunWithoutData } from '@workflow/world'
import { ApiError } from '../errors.js'
import { classifyWorldError, retryAfterHeaders } from '../wire/world-errors.js'

/** The public lane's sentences for the World errors a caller of it meets. */
const PUBLIC_MESSAGES: Record<string, (runId?: string) => string> = {
  run_not_found: (runId) => `Run ${runId ?? ''} does not exist`,
  hook_not_found: () => 'No hook is waiting on this token'
}

/**
 * A World error as the public lane answers it: the same status and code as the internal lane
 * (`run_not_found`, `hook_not_found`, 429 on a throttled World, …) without the internal lane's
 * class name and fields (a hook's token is a secret). Undefined for an unexpected error.
 */
export function publicWorldError (error: unknown): ApiError | undefined {
  const meaning = classifyWorldError(error)
  if (meaning === undefined) return undefined
  return new ApiError(meaning.status, meaning.code, PUBLIC_MESSAGES[meaning.code]?.(meaning.fields.runId) ?? meaning.message, {
    headers: retryAfterHeaders(meaning.fields),
    cause: error
  })
}

/** 404 `hook_not_found`, exactly as the World's own HookNotFoundError answers. */
export function hookNotFound (token: string): ApiError {
  return publicWorldError(new HookNotFoundError(token)) as ApiError
}

/** Runs World calls, turning what the World throws into the public lane's errors. */
export async function worldCall<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw publicWorldError(error) ?? error
  }
}

export function getRun (world: World, runId: string, resolveData: 'all' | 'none'): Promise<WorkflowRun | WorkflowRunWithoutData> {
  return worldCall(() => world.runs.get(runId, { resolveData }))
}
