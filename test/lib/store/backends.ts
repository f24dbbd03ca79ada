import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { ControlPlane } from '../../../lib/store/control-plane.js'
import { openControlPlane } from '../../../lib/store/index.js'
import { tempDir } from '../../helper.js'
import { freshDatabase, needsPostgres } from '../../postgres.js'

export type BackendName = 'sqlite' | 'postgres'

export interface OpenedBackend {
  name: BackendName
  controlPlane: ControlPlane
  artifactDir: string
  /**
   * Another control plane on the same database: a second worker. On PostgreSQL it has a local
   * directory of its own; on SQLite the files are the first one's, on the same disk.
   */
  another: () => Promise<ControlPlane>
  /** An empty control plane of the same kind on another database (a target to copy into). */
  separate: () => Promise<ControlPlane>
}

async function open (t: TestContext, name: BackendName): Promise<OpenedBackend> {
  const dir = await tempDir(t)
  const location = {
    sqlitePath: join(dir, 'worker.db'),
    database: name === 'postgres' ? await freshDatabase(t) : undefined
  }
  const separate = async (): Promise<ControlPlane> => {
    const other = await tempDir(t)
    const controlPlane = await openControlPlane({
      sqlitePath: join(other, 'worker.db'),
      database: name === 'postgres' ? await freshDatabase(t) : undefined,
      artifactDir: join(other, 'artifacts')
    })
    opened.push(controlPlane)
    return controlPlane
  }
  const opened: ControlPlane[] = []
  const openOne = async (artifactDir: string): Promise<ControlPlane> => {
    const controlPlane = await openControlPlane({ ...location, artifactDir })
    opened.push(controlPlane)
    return controlPlane
  }
  t.after(async () => { for (const controlPlane of opened) await controlPlane.close() })
  const artifactDir = join(dir, 'artifacts')
  let workers = 0
  return { name, controlPlane: await openOne(artifactDir), artifactDir, another: async () => await openOne(name === 'sqlite' ? artifactDir : join(dir, `artifacts-${++workers}`)), separate }
}

/**
 * One behavioural test, run on each backend: SQLite in a temp file, PostgreSQL in a fresh database
 * of the test cluster (skipped without one outside CI). A rule tested here holds on both or fails.
 */
export function eachBackend (title: string, body: (t: TestContext, backend: OpenedBackend) => Promise<void>): void {
  test(`${title} [sqlite]`, async (t) => { await body(t, await open(t, 'sqlite')) })
  test(`${title} [postgres]`, needsPostgres, async (t) => { await body(t, await open(t, 'postgres')) })
}
