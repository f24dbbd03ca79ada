import type { ControlPlane } from './control-plane.js'
import { SqliteControlPlane } from './sqlite/index.js'

export interface ControlPlaneLocation {
  /** The SQLite file, used when no `database` is named. */
  sqlitePath: string
  /** A `postgres://` URL: the control plane in that database's `compute_worker` schema. */
  database?: string
  /** Deployment files on local disk: the files themselves on SQLite, a verified cache on PostgreSQL. */
  artifactDir: string
}

/** Opens the control plane where `location` says and brings its schema up to date. */
export async function openControlPlane (location: ControlPlaneLocation): Promise<ControlPlane> {
  if (location.database !== undefined) {
    // Loaded only when named: the embedded default never loads pg.
    const { openPostgresControlPlane } = await import('./postgres/index.js')
    return await openPostgresControlPlane(location.database, location.artifactDir)
  }
  return new SqliteControlPlane(location.sqlitePath, location.artifactDir)
}

/** Opens the control plane for one command (`compute-worker keys …`) and closes it after. */
export async function withControlPlane<T> (location: ControlPlaneLocation, use: (controlPlane: ControlPlane) => Promise<T>): Promise<T> {
  const controlPlane = await openControlPlane(location)
  try {
    return await use(controlPlane)
  } finally {
    await controlPlane.close()
  }
}
