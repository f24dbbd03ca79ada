/** A Map that forgets its oldest entries beyond `limit` (insertion order; `set` refreshes). */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>()

  constructor (private readonly limit: number) {}

  get (key: K): V | undefined {
    return this.entries.get(key)
  }

  set (key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as K)
  }

  delete (key: K): void {
    this.entries.delete(key)
  }

  keys (): IterableIterator<K> {
    return this.entries.keys()
  }
}

/** A set that forgets its oldest members beyond `limit` (`add` refreshes). */
export class BoundedSet<T> {
  readonly #members: BoundedMap<T, true>

  constructor (limit: number) {
    this.#members = new BoundedMap(limit)
  }

  has (item: T): boolean {
    return this.#members.get(item) === true
  }

  add (item: T): void {
    this.#members.set(item, true)
  }

  [Symbol.iterator] (): IterableIterator<T> {
    return this.#members.keys()
  }
}
