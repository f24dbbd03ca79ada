import { createServer } from 'node:net'

/** A port free on `host` right now (the OS picks it), for a server that must know it before listening. */
export async function freePort (host: string): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The origin at which this process reaches its own server listening on `host:port`: loopback when it can. */
export function deliveryOrigin (host: string, port: number): string {
  if (['0.0.0.0', '::', '127.0.0.1', 'localhost', ''].includes(host)) return `http://127.0.0.1:${port}`
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`
}
