import pg from 'pg'

/**
 * One connection per worker that LISTENs on the control plane's channels: opened on first use and
 * kept; a lost one is reopened on the next `open()`. `listening` is true only while LISTEN is in
 * force on every channel, so a reader that relies on notifications (the key cache) knows when it
 * cannot, and goes back to the database instead.
 */
export class PostgresListener {
  readonly #connectionString: string
  readonly #channels: ReadonlyMap<string, (payload: string) => void>
  readonly #onListening: () => void
  #client: Promise<pg.Client> | undefined
  #listening = false
  #closed = false

  /** `onListening` is called each time LISTEN is (again) in force: what was sent while it was not is lost. */
  constructor (connectionString: string, channels: Record<string, (payload: string) => void>, onListening: () => void = () => {}) {
    this.#connectionString = connectionString
    this.#channels = new Map(Object.entries(channels))
    this.#onListening = onListening
  }

  get listening (): boolean {
    return this.#listening
  }

  async open (): Promise<void> {
    if (this.#closed) throw new Error('closed')
    this.#client ??= (async () => {
      const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 10_000 })
      const forget = (): void => {
        this.#listening = false
        this.#client = undefined
      }
      client.on('error', forget)
      client.on('end', forget)
      client.on('notification', (message) => { this.#channels.get(message.channel)?.(message.payload ?? '') })
      try {
        await client.connect()
        for (const channel of this.#channels.keys()) await client.query(`LISTEN ${channel}`)
      } catch (error) {
        forget()
        await client.end().catch(() => {})
        throw error
      }
      this.#listening = true
      this.#onListening()
      return client
    })()
    await this.#client
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#listening = false
    const client = this.#client
    this.#client = undefined
    if (client !== undefined) await client.then(async (opened) => await opened.end(), () => {})
  }
}
