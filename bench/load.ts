import autocannon from 'autocannon'

export interface LoadResult {
  label: string
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  errors: number
}

export interface LoadOptions {
  label: string
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections?: number
  durationSeconds?: number
  /** Per-request rewrites (e.g. a unique Idempotency-Key): autocannon's `requests` with `setupRequest`. */
  requests?: autocannon.Request[]
}

/** One autocannon run, reduced to the figures the benchmarks report. */
export async function load (options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections ?? 10,
    duration: options.durationSeconds ?? 5,
    requests: options.requests
  })
  return {
    label: options.label,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors
  }
}

/**
 * Alternates the subject and its baseline `rounds` times (so drift on a shared machine hits both)
 * and reports the median of each and their ratio.
 */
export async function compare (subject: () => Promise<LoadResult>, baseline: () => Promise<LoadResult>, rounds = 3): Promise<{
  subject: LoadResult
  baseline: LoadResult
  ratio: number
}> {
  const subjects: LoadResult[] = []
  const baselines: LoadResult[] = []
  for (let i = 0; i < rounds; i++) {
    baselines.push(await baseline())
    subjects.push(await subject())
  }
  const median = (results: LoadResult[]) => [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(results.length / 2)]
  const s = median(subjects)
  const b = median(baselines)
  return { subject: s, baseline: b, ratio: Number((s.requestsPerSecond / b.requestsPerSecond).toFixed(3)) }
}

export function printTable (rows: LoadResult[]): void {
  console.table(rows.map((row) => ({
    run: row.label,
    'req/s': row.requestsPerSecond,
    'p50 ms': row.latencyP50Ms,
    'p99 ms': row.latencyP99Ms,
    non2xx: row.non2xx,
    errors: row.errors
  })))
}
