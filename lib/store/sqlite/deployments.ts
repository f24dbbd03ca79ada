import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DecodedFile } from '../../deployments/files.js'
import { deploymentDirectory, removeArtifacts, sweepOrphanArtifacts, writeArtifacts } from '../artifacts.js'
import type { DeploymentFileEntry, DeploymentPosition, DeploymentRecord, DeploymentTable } from '../control-plane.js'
import type { SqliteDatabase } from './database.js'

interface Row {
  id: string
  digest: string
  manifest_json: string
  workflows_json: string
  files_json: string
  labels_json: string
  created_by_key_id: string | null
  created_at: number
  activated_at: number | null
}

function fromRow (row: Row): DeploymentRecord {
  return {
    id: row.id,
    digest: row.digest,
    manifestJson: row.manifest_json,
    workflows: JSON.parse(row.workflows_json),
    files: JSON.parse(row.files_json),
    labels: JSON.parse(row.labels_json),
    createdByKeyId: row.created_by_key_id,
    createdAt: row.created_at,
    activatedAt: row.activated_at
  }
}

const ORPHAN_MIN_AGE_MS = 15 * 60_000

/**
 * Deployments on SQLite: one row each, their files under `artifactDir/<id>/` (the files are
 * the worker's own, on its own disk). A deployment is visible once its row is committed, and
 * its row is written only after its directory was renamed into place whole.
 */
export class SqliteDeployments implements DeploymentTable {
  readonly #db: SqliteDatabase
  readonly #artifactDir: string
  readonly #insert
  readonly #byId
  readonly #exists
  readonly #active
  readonly #markActivated
  readonly #setActive
  readonly #page
  readonly #pageAfter

  constructor (db: SqliteDatabase, artifactDir: string) {
    this.#db = db
    this.#artifactDir = artifactDir
    this.#insert = db.prepare(`INSERT INTO deployments (id, digest, manifest_json, workflows_json, files_json, labels_json, created_by_key_id, created_at, activated_at)
      VALUES (@id, @digest, @manifestJson, @workflowsJson, @filesJson, @labelsJson, @createdByKeyId, @createdAt, @activatedAt)`)
    this.#byId = db.prepare<[string], Row>('SELECT * FROM deployments WHERE id = ?')
    this.#exists = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM deployments WHERE id = ?')
    this.#active = db.prepare<[], { deployment_id: string }>('SELECT deployment_id FROM active_deployment WHERE singleton = 1')
    this.#markActivated = db.prepare('UPDATE deployments SET activated_at = ? WHERE id = ?')
    this.#setActive = db.prepare(`INSERT INTO active_deployment (singleton, deployment_id, activated_at) VALUES (1, ?, ?)
      ON CONFLICT (singleton) DO UPDATE SET deployment_id = excluded.deployment_id, activated_at = excluded.activated_at`)
    this.#page = db.prepare<[number], Row>('SELECT * FROM deployments ORDER BY created_at DESC, id DESC LIMIT ?')
    this.#pageAfter = db.prepare<[number, number, string, number], Row>(`SELECT * FROM deployments
      WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?`)
  }

  async insert (record: DeploymentRecord, files: readonly DecodedFile[], options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    if (options.ifAbsent === true && this.#exists.get(record.id) !== undefined) return false
    if (files.length > 0) await writeArtifacts(this.#artifactDir, record.id, files)
    try {
      this.#insert.run({
        id: record.id,
        digest: record.digest,
        manifestJson: record.manifestJson,
        workflowsJson: JSON.stringify(record.workflows),
        filesJson: JSON.stringify(record.files),
        labelsJson: JSON.stringify(record.labels),
        createdByKeyId: record.createdByKeyId,
        createdAt: record.createdAt,
        activatedAt: record.activatedAt
      })
    } catch (error) {
      await removeArtifacts(this.#artifactDir, record.id)
      throw error
    }
    return true
  }

  async get (id: string): Promise<DeploymentRecord | undefined> {
    const row = this.#byId.get(id)
    return row === undefined ? undefined : fromRow(row)
  }

  async page (limit: number, after?: DeploymentPosition): Promise<DeploymentRecord[]> {
    const rows = after === undefined ? this.#page.all(limit) : this.#pageAfter.all(after.createdAt, after.createdAt, after.id, limit)
    return rows.map(fromRow)
  }

  async activeId (): Promise<string | undefined> {
    return this.#active.get()?.deployment_id
  }

  async activate (id: string, at: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#markActivated.run(at, id).changes === 0) return false
      this.#setActive.run(id, at)
      return true
    }).immediate()
  }

  // The directory is the deployment's only copy: there is nothing to fetch it again from.
  async localDirectory (id: string): Promise<string | undefined> {
    return this.#exists.get(id) === undefined ? undefined : deploymentDirectory(this.#artifactDir, id)
  }

  async readFile (id: string, entry: DeploymentFileEntry): Promise<Buffer> {
    return await readFile(join(deploymentDirectory(this.#artifactDir, id), entry.name))
  }

  async sweepOrphans (now: number): Promise<string[]> {
    return await sweepOrphanArtifacts(this.#artifactDir, async (id) => this.#exists.get(id) !== undefined, ORPHAN_MIN_AGE_MS, now)
  }
}
