/** A set that forgets its oldest members beyond `capacity` (insertion order). */
export class BoundedSet<T> {
  readonly #items = new Set<T>()
  readonly #capacity: number

  constructor (capacity: number) {
    this.#capacity = capacity
  }

  has (item: T): boolean {
    return this.#items.has(item)
  }

  add (item: T): void {
    if (this.#items.has(item)) return
    this.#items.add(item)
    if (this.#items.size > this.#capacity) {
      const oldest = this.#items.values().next().value as T
      this.#items.delete(oldest)
    }
  }
}
