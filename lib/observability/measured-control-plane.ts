import { performance } from 'node:perf_hooks'
import type { ControlPlane } from '../store/control-plane.js'
import type { WorkerMetrics } from './metrics.js'

const TABLES = ['apiKeys', 'idempotency', 'deployments', 'audit', 'uiSessions'] as const
// Waiting for another request is not a database operation.
const UNTIMED = new Set(['waitForChange'])

function measureTable<T extends object> (table: T, name: string, metrics: WorkerMetrics): T {
  const timedMethods = new Map<string, unknown>()
  return new Proxy(table, {
    get (target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof value !== 'function') return value
      if (typeof property !== 'string' || UNTIMED.has(property)) return value.bind(target)
      let timed = timedMethods.get(property)
      if (timed === undefined) {
        const operation = `${name}.${property}`
        timed = async (...args: unknown[]) => {
          const started = performance.now()
          try {
            const result = await (value as (...args: unknown[]) => Promise<unknown>).apply(target, args)
            metrics.storeOperation(operation, 'ok', (performance.now() - started) / 1000)
            return result
          } catch (error) {
            metrics.storeOperation(operation, 'error', (performance.now() - started) / 1000)
            throw error
          }
        }
        timedMethods.set(property, timed)
      }
      return timed
    }
  })
}

/**
 * Times every call to the control plane's tables (`apiKeys.findLiveByHash`, `idempotency.reserve`…:
 * the table and the operation, a label bounded by the code), whichever backend serves them.
 * Everything else goes to the control plane itself.
 */
export function measureControlPlane (controlPlane: ControlPlane, metrics: WorkerMetrics): ControlPlane {
  const tables = new Map<PropertyKey, unknown>(TABLES.map((name) => [name, measureTable(controlPlane[name], name, metrics)]))
  return new Proxy(controlPlane, {
    get (target, property) {
      if (tables.has(property)) return tables.get(property)
      const value = Reflect.get(target, property, target) as unknown
      // Bound to the control plane itself: its private fields are not the proxy's.
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}
