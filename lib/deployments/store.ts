import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { DomainError } from '../errors.js'
import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
import type { DeploymentView, WorkflowManifest } from '../schemas/deployments.js'
import type { DeploymentRecord, DeploymentTable } from '../store/control-plane.js'
import { newUlid } from '../ulid.js'
import { decodeFiles } from './files.js'
import { assertManifest, manifestWorkflows, type ManifestWorkflow } from './manifest.js'

export interface NewDeployment {
  manifest: unknown
  /** File name → base64 content. */
  files?: Record<string, string>
  labels?: Record<string, string>
  createdByKeyId?: string | null
}

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
 * Deployments and the single active pointer, on whichever backend the control plane is. A
 * deployment is immutable once stored, and visible only once stored whole with its files.
 */
export class DeploymentStore {
  readonly #table: DeploymentTable
  readonly #workflowsCache = new Map<string, ManifestWorkflow[]>()

  constructor (table: DeploymentTable) {
    this.#table = table
  }

  /** Validates, then stores the record with its files, whole or not at all. */
  async create (input: NewDeployment, maxBytes: number): Promise<DeploymentView> {
    assertManifest(input.manifest)
    const manifest = input.manifest
    const labels = input.labels ?? {}
    assertLabels(labels)
    const files = decodeFiles(input.files ?? {}, maxBytes)
    const fileList = files.map(({ name, size, sha256 }) => ({ name, size, sha256 }))
    const digest = 'sha256:' + createHash('sha256').update(canonicalize({ manifest, files: fileList }) ?? '').digest('hex')
    const record: DeploymentRecord = {
      id: `dpl_${newUlid()}`,
      digest,
      manifestJson: JSON.stringify(manifest),
      workflows: manifestWorkflows(manifest).map((workflow) => workflow.workflowId),
      files: fileList,
      labels,
      createdByKeyId: input.createdByKeyId ?? null,
      createdAt: Date.now(),
      activatedAt: null
    }
    await this.#table.insert(record, files)
    return this.#view(record, await this.activeId())
  }

  async get (id: string): Promise<DeploymentView | undefined> {
    const record = await this.#table.get(id)
    return record === undefined ? undefined : this.#view(record, await this.activeId())
  }

  /** The deployment or 404 `deployment_not_found`. */
  async require (id: string): Promise<DeploymentView> {
    return this.#view(await this.#mustGet(id), await this.activeId())
  }

  async activeId (): Promise<string | undefined> {
    return await this.#table.activeId()
  }

  async getActive (): Promise<DeploymentView | undefined> {
    const id = await this.activeId()
    return id === undefined ? undefined : await this.get(id)
  }

  /** Points the single active pointer at `id` (one transaction: record stamp and pointer together). */
  async activate (id: string): Promise<DeploymentView> {
    if (!await this.#table.activate(id, Date.now())) throw notFound(id)
    return await this.require(id)
  }

  async list (limit: number, cursor?: string): Promise<Page<DeploymentView>> {
    const after = decodeCursor<{ t: number, id: string }>(cursor, (value) => typeof value.t === 'number' && typeof value.id === 'string')
    const [records, activeId] = await Promise.all([
      this.#table.page(limit + 1, after === undefined ? undefined : { createdAt: after.t, id: after.id }),
      this.activeId()
    ])
    const hasMore = records.length > limit
    const page = records.slice(0, limit)
    const last = page.at(-1)
    return {
      data: page.map((record) => this.#view(record, activeId)),
      cursor: hasMore && last !== undefined ? encodeCursor({ t: last.createdAt, id: last.id }) : null,
      hasMore
    }
  }

  /** The workflows of a deployment's manifest (deployments are immutable, so cached). */
  async workflows (id: string): Promise<ManifestWorkflow[]> {
    let workflows = this.#workflowsCache.get(id)
    if (workflows === undefined) {
      workflows = manifestWorkflows(JSON.parse((await this.#mustGet(id)).manifestJson) as WorkflowManifest)
      this.#workflowsCache.set(id, workflows)
    }
    return workflows
  }

  /** The local directory of the deployment's files, verified, for the executor to load. */
  async localDirectory (id: string): Promise<string | undefined> {
    return await this.#table.localDirectory(id)
  }

  /** Start-up clean-up of what a crash mid-upload leaves on disk (never visible through the API). */
  async sweepOrphans (now = Date.now()): Promise<string[]> {
    return await this.#table.sweepOrphans(now)
  }

  async #mustGet (id: string): Promise<DeploymentRecord> {
    const record = await this.#table.get(id)
    if (record === undefined) throw notFound(id)
    return record
  }

  #view (record: DeploymentRecord, activeId: string | undefined): DeploymentView {
    return {
      id: record.id,
      digest: record.digest,
      workflows: record.workflows,
      files: record.files,
      labels: record.labels,
      createdAt: new Date(record.createdAt).toISOString(),
      active: activeId === record.id,
      activatedAt: iso(record.activatedAt)
    }
  }
}

function notFound (id: string): DomainError {
  return new DomainError('deployment_not_found', `Deployment ${id} does not exist`)
}
