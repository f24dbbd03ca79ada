import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type pg from 'pg'
import type { DecodedFile } from '../../deployments/files.js'
import { deploymentDirectory, sweepOrphanArtifacts } from '../artifacts.js'
import type { DeploymentFileEntry, DeploymentPosition, DeploymentRecord, DeploymentTable } from '../control-plane.js'
import { inTransaction, SCHEMA, type Queryable } from './pool.js'

interface Row {
  id: string
  digest: string
  manifest_json: string
  workflows: string[]
  files: DeploymentFileEntry[]
  labels: Record<string, string>
  created_by_key_id: string | null
  created_at: number
  activated_at: number | null
}

function fromRow (row: Row): DeploymentRecord {
  return {
    id: row.id,
    digest: row.digest,
    manifestJson: row.manifest_json,
    workflows: row.workflows,
    files: row.files,
    labels: row.labels,
    createdByKeyId: row.created_by_key_id,
    createdAt: row.created_at,
    activatedAt: row.activated_at
  }
}

/** Large files are stored in rows of this size: no single value near PostgreSQL's 1 GB limit, none held whole twice. */
export const CHUNK_BYTES = 1024 * 1024
const ORPHAN_MIN_AGE_MS = 15 * 60_000

const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

async function storeContent (client: Queryable, file: DecodedFile): Promise<void> {
  const known = await client.query(`SELECT 1 FROM ${SCHEMA}.file_contents WHERE sha256 = $1`, [file.sha256])
  if (known.rowCount === 1) return
  const chunks = Math.max(1, Math.ceil(file.bytes.length / CHUNK_BYTES))
  // The contents row first (the chunks reference it); a concurrent upload of the same bytes waits on it, then skips.
  const claimed = await client.query(`INSERT INTO ${SCHEMA}.file_contents (sha256, size, chunks) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [file.sha256, file.bytes.length, chunks])
  if (claimed.rowCount === 0) return
  for (let chunk = 0; chunk < chunks; chunk++) {
    await client.query(`INSERT INTO ${SCHEMA}.file_chunks (sha256, chunk, bytes) VALUES ($1, $2, $3)`,
      [file.sha256, chunk, file.bytes.subarray(chunk * CHUNK_BYTES, (chunk + 1) * CHUNK_BYTES)])
  }
}

/**
 * Deployments on PostgreSQL: the record, its file list and the files' bytes (content-addressed
 * by sha256, in chunks) commit in one transaction, so a deployment uploaded to any worker is
 * whole for every worker or absent. Each worker keeps a read-through cache of the files under
 * `artifactDir/<id>/`, checked against the sha256 before the executor loads it.
 */
export class PostgresDeployments implements DeploymentTable {
  readonly #pool: pg.Pool
  readonly #artifactDir: string

  constructor (pool: pg.Pool, artifactDir: string) {
    this.#pool = pool
    this.#artifactDir = artifactDir
  }

  async insert (record: DeploymentRecord, files: readonly DecodedFile[], options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    return await inTransaction(this.#pool, async (client) => {
      const inserted = await client.query(`INSERT INTO ${SCHEMA}.deployments
        (id, digest, manifest_json, workflows, files, labels, created_by_key_id, created_at, activated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)${options.ifAbsent === true ? ' ON CONFLICT (id) DO NOTHING' : ''}`,
      [record.id, record.digest, record.manifestJson, JSON.stringify(record.workflows), JSON.stringify(record.files),
        JSON.stringify(record.labels), record.createdByKeyId, record.createdAt, record.activatedAt])
      if (inserted.rowCount === 0) return false
      for (const file of files) {
        await storeContent(client, file)
        await client.query(`INSERT INTO ${SCHEMA}.deployment_files (deployment_id, name, sha256) VALUES ($1, $2, $3)`, [record.id, file.name, file.sha256])
      }
      return true
    })
  }

  async get (id: string): Promise<DeploymentRecord | undefined> {
    const { rows: [row] } = await this.#pool.query<Row>(`SELECT * FROM ${SCHEMA}.deployments WHERE id = $1`, [id])
    return row === undefined ? undefined : fromRow(row)
  }

  async page (limit: number, after?: DeploymentPosition): Promise<DeploymentRecord[]> {
    const { rows } = after === undefined
      ? await this.#pool.query<Row>(`SELECT * FROM ${SCHEMA}.deployments ORDER BY created_at DESC, id DESC LIMIT $1`, [limit])
      : await this.#pool.query<Row>(`SELECT * FROM ${SCHEMA}.deployments WHERE (created_at, id) < ($1, $2)
        ORDER BY created_at DESC, id DESC LIMIT $3`, [after.createdAt, after.id, limit])
    return rows.map(fromRow)
  }

  async activeId (): Promise<string | undefined> {
    const { rows: [row] } = await this.#pool.query<{ deployment_id: string }>(`SELECT deployment_id FROM ${SCHEMA}.active_deployment WHERE singleton = 1`)
    return row?.deployment_id
  }

  async activate (id: string, at: number): Promise<boolean> {
    return await inTransaction(this.#pool, async (client) => {
      const marked = await client.query(`UPDATE ${SCHEMA}.deployments SET activated_at = $1 WHERE id = $2`, [at, id])
      if (marked.rowCount === 0) return false
      await client.query(`INSERT INTO ${SCHEMA}.active_deployment (singleton, deployment_id, activated_at) VALUES (1, $1, $2)
        ON CONFLICT (singleton) DO UPDATE SET deployment_id = excluded.deployment_id, activated_at = excluded.activated_at`, [id, at])
      return true
    })
  }

  async localDirectory (id: string): Promise<string | undefined> {
    const record = await this.get(id)
    if (record === undefined) return undefined
    const dir = deploymentDirectory(this.#artifactDir, id)
    for (const entry of record.files) {
      const path = join(dir, entry.name)
      const cached = await readFile(path).catch(() => undefined)
      if (cached !== undefined && sha256Of(cached) === entry.sha256) continue
      const bytes = await this.readFile(id, entry)
      // A temporary name, then a rename: a reader sees the old file or the whole new one.
      const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`
      await mkdir(dirname(path), { recursive: true })
      try {
        await writeFile(temp, bytes)
        await rename(temp, path)
      } catch (error) {
        await rm(temp, { force: true })
        throw error
      }
    }
    return dir
  }

  async readFile (id: string, entry: DeploymentFileEntry): Promise<Buffer> {
    const { rows } = await this.#pool.query<{ bytes: Buffer }>(`SELECT c.bytes FROM ${SCHEMA}.deployment_files f
      JOIN ${SCHEMA}.file_chunks c ON c.sha256 = f.sha256 WHERE f.deployment_id = $1 AND f.name = $2 ORDER BY c.chunk`, [id, entry.name])
    const bytes = Buffer.concat(rows.map((row) => row.bytes))
    if (sha256Of(bytes) !== entry.sha256) throw new Error(`the stored bytes of ${id}/${entry.name} do not match its sha256`)
    return bytes
  }

  async sweepOrphans (now: number): Promise<string[]> {
    return await sweepOrphanArtifacts(this.#artifactDir, async (id) => (await this.get(id)) !== undefined, ORPHAN_MIN_AGE_MS, now)
  }
}
