import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

/**
 * What the proxy does to the next request:
 * - `lose-answer`: forwards it, lets the worker answer in full, then cuts the connection (the
 *   caller cannot know whether its request took effect);
 * - `unavailable`: answers 503 without forwarding (a restarting upstream);
 * - `cut-after-first-line`: forwards it and passes the answer up to its first newline, then cuts.
 */
export type Fault = 'lose-answer' | 'unavailable' | 'cut-after-first-line'

export interface FaultProxy {
  url: string
  /** Every request that reached the proxy, in order. */
  seen: Array<{ method: string, url: string, headers: IncomingHttpHeaders }>
  /** Queues faults, one per coming request. */
  fail: (...faults: Fault[]) => void
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'upgrade', 'expect'])

function endToEnd (headers: Iterable<[string, string | string[] | undefined]>): Record<string, string> {
  const kept: Record<string, string> = {}
  for (const [name, value] of headers) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return kept
}

/** A real HTTP proxy in front of `target` that spoils the requests it is told to. */
export async function startFaultProxy (t: TestContext, target: string): Promise<FaultProxy> {
  const seen: FaultProxy['seen'] = []
  const faults: Fault[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers })
    const fault = faults.shift()
    if (fault === 'unavailable') {
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'not_ready', message: 'the upstream is restarting', correlationId: 'proxy' }))
      return
    }
    try {
      const upstream = await fetch(target + req.url, {
        method: req.method,
        headers: endToEnd(Object.entries(req.headers)),
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined
      })
      if (fault === 'lose-answer') {
        await upstream.arrayBuffer()
        req.socket.destroy()
        return
      }
      res.writeHead(upstream.status, endToEnd(upstream.headers.entries()))
      if (upstream.body === null) {
        res.end()
        return
      }
      for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
        const newline = fault === 'cut-after-first-line' ? chunk.indexOf(0x0a) : -1
        if (newline >= 0) {
          res.write(chunk.subarray(0, newline + 1), () => req.socket.destroy())
          return
        }
        res.write(chunk)
      }
      res.end()
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, fail: (...more) => { faults.push(...more) } }
}
