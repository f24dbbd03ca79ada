import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { DomainError } from '../errors.js'
import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
import type { DeploymentView, WorkflowManifest } from '../schemas/deployments.js'
import type { SqliteDatabase } from '../store/database.js'
import { newUlid } from '../ulid.js'
import { removeArtifacts, sweepOrphanArtifacts, writeArtifacts } from './artifacts.js'
import { decodeFiles } from './files.js'
import { assertManifest, manifestWorkflows, type ManifestWorkflow } from './manifest.js'

export interface NewDeployment {
  manifest: unknown
  /** File name → base64 content. */
  files?: Record<string, string>
  labels?: Record<string, string>
  createdByKeyId?: string | null
}

interface DeploymentRow {
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

const ORPHAN_MIN_AGE_MS = 15 * 60_000
const LABEL_KEY = /^[A-Za-z0-9._/-]{1,63}$/

function iso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

function assertLabels (labels: Record<string, string>): void {
  for (const key of Object.keys(labels)) {
    if (!LABEL_KEY.test(key)) {
      throw new DomainError('validation_error', `Label "${key}" must consist of letters, digits, ".", "_", "/", "-" (1 to 63)`, {
        details: { validation: [{ in: 'body', path: `/labels/${encodeURIComponent(key)}`, message: 'is not a valid label key' }] }
      })
    }
  }
}

/**
 * Deployments: the files under `artifactDir/<id>/` and one SQLite row each, plus the single
 * active pointer. A deployment is visible only once its row is committed, and its row is
 * written only after its directory was renamed into place whole.
 */
export class DeploymentStore {
  readonly #db: SqliteDatabase
  readonly #artifactDir: string
  readonly #insert
  readonly #byId
  readonly #active
  readonly #markActivated
  readonly #setActive
  readonly #page
  readonly #pageAfter
  readonly #workflowsCache = new Map<string, ManifestWorkflow[]>()

  constructor (db: SqliteDatabase, artifactDir: string) {
    this.#db = db
    this.#artifactDir = artifactDir
    this.#insert = db.prepare(`INSERT INTO deployments (id, digest, manifest_json, workflows_json, files_json, labels_json, created_by_key_id, created_at)
      VALUES (@id, @digest, @manifestJson, @workflowsJson, @filesJson, @labelsJson, @createdByKeyId, @createdAt)`)
    this.#byId = db.prepare<[string], DeploymentRow>('SELECT * FROM deployments WHERE id = ?')
    this.#active = db.prepare<[], { deployment_id: string }>('SELECT deployment_id FROM active_deployment WHERE singleton = 1')
    this.#markActivated = db.prepare('UPDATE deployments SET activated_at = ? WHERE id = ?')
    this.#setActive = db.prepare(`INSERT INTO active_deployment (singleton, deployment_id, activated_at) VALUES (1, ?, ?)
      ON CONFLICT (singleton) DO UPDATE SET deployment_id = excluded.deployment_id, activated_at = excluded.activated_at`)
    this.#page = db.prepare<[number], DeploymentRow>('SELECT * FROM deployments ORDER BY created_at DESC, id DESC LIMIT ?')
    this.#pageAfter = db.prepare<[number, number, string, number], DeploymentRow>(`SELECT * FROM deployments
      WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?`)
  }

  /** Validates, writes the files atomically, then commits the row. */
  async create (input: NewDeployment, maxBytes: number): Promise<DeploymentView> {
    assertManifest(input.manifest)
    const manifest = input.manifest
    const labels = input.labels ?? {}
    assertLabels(labels)
    const files = decodeFiles(input.files ?? {}, maxBytes)
    const fileList = files.map(({ name, size, sha256 }) => ({ name, size, sha256 }))
    const id = `dpl_${newUlid()}`
    const digest = 'sha256:' + createHash('sha256').update(canonicalize({ manifest, files: fileList }) ?? '').digest('hex')
    const workflowIds = manifestWorkflows(manifest).map((workflow) => workflow.workflowId)

    if (files.length > 0) await writeArtifacts(this.#artifactDir, id, files)
    try {
      this.#insert.run({
        id,
        digest,
        manifestJson: JSON.stringify(manifest),
        workflowsJson: JSON.stringify(workflowIds),
        filesJson: JSON.stringify(fileList),
        labelsJson: JSON.stringify(labels),
        createdByKeyId: input.createdByKeyId ?? null,
        createdAt: Date.now()
      })
    } catch (error) {
      await removeArtifacts(this.#artifactDir, id)
      throw error
    }
    return this.#view(this.#mustGet(id))
  }

  get (id: string): DeploymentView | undefined {
    const row = this.#byId.get(id)
    return row === undefined ? undefined : this.#view(row)
  }

  /** The deployment or 404 `deployment_not_found`. */
  require (id: string): DeploymentView {
    return this.#view(this.#mustGet(id))
  }

  activeId (): string | undefined {
    return this.#active.get()?.deployment_id
  }

  getActive (): DeploymentView | undefined {
    const id = this.activeId()
    return id === undefined ? undefined : this.get(id)
  }

  /** Points the single active pointer at `id` (one transaction: row stamp and pointer together). */
  activate (id: string): DeploymentView {
    this.#mustGet(id)
    const now = Date.now()
    this.#db.transaction(() => {
      this.#markActivated.run(now, id)
      this.#setActive.run(id, now)
    }).immediate()
    return this.require(id)
  }

  list (limit: number, cursor?: string): Page<DeploymentView> {
    const after = decodeCursor<{ t: number, id: string }>(cursor, (value) => typeof value.t === 'number' && typeof value.id === 'string')
    const rows = after === undefined ? this.#page.all(limit + 1) : this.#pageAfter.all(after.t, after.t, after.id, limit + 1)
    const hasMore = rows.length > limit
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    const activeId = this.activeId()
    return {
      data: page.map((row) => this.#view(row, activeId)),
      cursor: hasMore && last !== undefined ? encodeCursor({ t: last.created_at, id: last.id }) : null,
      hasMore
    }
  }

  /** The workflows of a deployment's manifest (deployments are immutable, so cached). */
  workflows (id: string): ManifestWorkflow[] {
    let workflows = this.#workflowsCache.get(id)
    if (workflows === undefined) {
      workflows = manifestWorkflows(JSON.parse(this.#mustGet(id).manifest_json) as WorkflowManifest)
      this.#workflowsCache.set(id, workflows)
    }
    return workflows
  }

  /** Start-up clean-up of what a crash mid-upload leaves on disk (never visible through the API). */
  async sweepOrphans (now = Date.now()): Promise<string[]> {
    return await sweepOrphanArtifacts(this.#artifactDir, (id) => this.#byId.get(id) !== undefined, ORPHAN_MIN_AGE_MS, now)
  }

  #mustGet (id: string): DeploymentRow {
    const row = this.#byId.get(id)
    if (row === undefined) throw new DomainError('deployment_not_found', `Deployment ${id} does not exist`)
    return row
  }

  #view (row: DeploymentRow, activeId = this.activeId()): DeploymentView {
    return {
      id: row.id,
      digest: row.digest,
      workflows: JSON.parse(row.workflows_json),
      files: JSON.parse(row.files_json),
      labels: JSON.parse(row.labels_json),
      createdAt: new Date(row.created_at).toISOString(),
      active: activeId === row.id,
      activatedAt: iso(row.activated_at)
    }
  }
}
