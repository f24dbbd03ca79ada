import { createRequire } from 'node:module'
import { join } from 'node:path'

const fromWorker = createRequire(import.meta.url)

function fromCwd (): NodeJS.Require {
  return createRequire(join(process.cwd(), 'index.js'))
}

function isNotFound (error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
}

/**
 * A World module, required from the current directory first (where the user installed it),
 * then from the worker's own dependencies, the way the SDK's `createWorld()` finds one.
 */
export function requireWorldModule (name: string): unknown {
  try {
    return fromCwd()(name)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  return fromWorker(name)
}

/** The entry file of the World module `requireWorldModule` loads. */
export function resolveWorldModule (name: string): string {
  try {
    return fromCwd().resolve(name)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  return fromWorker.resolve(name)
}
