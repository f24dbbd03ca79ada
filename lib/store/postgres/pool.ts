import pg from 'pg'

/** The control plane's own schema: next to the World's tables, never among them. */
export const SCHEMA = 'compute_worker'

// Times are epoch milliseconds in bigint columns: read back as numbers (pg gives int8 as strings),
// on this pool only (a global parser would change world-postgres's reads too).
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => oid === pg.types.builtins.INT8
    ? (value: string) => Number(value)
    : pg.types.getTypeParser(oid, format)
}

const CONNECT_TIMEOUT_MS = 10_000

export function createPool (connectionString: string, onError: (error: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, types: types as pg.CustomTypesConfig, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
  // An idle connection that PostgreSQL closes must not kill the process; the pool replaces it.
  pool.on('error', onError)
  return pool
}

/** `work`'s answer, or an error once `ms` pass without one (a database that accepts connections but does not answer). */
export async function answerWithin<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export type Queryable = Pick<pg.PoolClient, 'query'>

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function inTransaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
    throw error
  } finally {
    // A connection that cannot even roll back is discarded, not reused.
    client.release(broken)
  }
}
