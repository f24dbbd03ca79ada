import type { World } from '@workflow/world'

export interface WorldStatus {
  status: 'ok' | 'unavailable'
  specVersion?: number
  error?: string
  checkedAt: string
}

export type WorldProbe = () => Promise<WorldStatus>

const FRESH_MS = 1_000
const TIMEOUT_MS = 2_000

/**
 * A probe of the World's storage (one tiny list call). Concurrent callers share one call and a
 * result is reused for a second, so health checks cannot load the World.
 */
export function createWorldProbe (world: World): WorldProbe {
  let last: { at: number, status: WorldStatus } | undefined
  let inFlight: Promise<WorldStatus> | undefined

  async function check (): Promise<WorldStatus> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)
    })
    try {
      await Promise.race([world.runs.list({ pagination: { limit: 1 }, resolveData: 'none' }), timeout])
      return { status: 'ok', specVersion: world.specVersion, checkedAt: new Date().toISOString() }
    } catch (error) {
      return { status: 'unavailable', error: (error as Error)?.message ?? String(error), checkedAt: new Date().toISOString() }
    } finally {
      clearTimeout(timer)
    }
  }

  return async function probeWorld () {
    if (last !== undefined && Date.now() - last.at < FRESH_MS) return last.status
    inFlight ??= check().then((status) => {
      last = { at: Date.now(), status }
      inFlight = undefined
      return status
    })
    return await inFlight
  }
}
