import { performance } from 'node:perf_hooks'
import type { ControlPlane } from '../store/control-plane.js'
import type { WorkerMetrics } from './metrics.js'

const TABLES = ['apiKeys', 'idempotency', 'deployments', 'audit', 'uiSessions'] as const
// Waiting for another request is not a database operation; a key cache's freshness check is
// synchronous (and asked on every request).
const UNTIMED = new Set(['waitForChange', 'changeToken'])

// A plain object in front of the table (no proxy trap on every call): each method timed, bound to the table.
function measureTable<T extends object> (table: T, name: string, metrics: WorkerMetrics): T {
  const measured = Object.create(table) as Record<string, unknown>
  for (let proto = Object.getPrototypeOf(table); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const property of Object.getOwnPropertyNames(proto)) {
      const method = (table as Record<string, unknown>)[property]
      if (property === 'constructor' || typeof method !== 'function' || Object.hasOwn(measured, property)) continue
      if (UNTIMED.has(property)) {
        measured[property] = method.bind(table)
        continue
      }
      const operation = `${name}.${property}`
      measured[property] = async (...args: unknown[]) => {
        const started = performance.now()
        try {
          const result = await (method as (...args: unknown[]) => Promise<unknown>).apply(table, args)
          metrics.storeOperation(operation, 'ok', (performance.now() - started) / 1000)
          return result
        } catch (error) {
          metrics.storeOperation(operation, 'error', (performance.now() - started) / 1000)
          throw error
        }
      }
    }
  }
  return measured as T
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
