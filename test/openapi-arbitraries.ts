import fc from 'fast-check'

/** The JSON Schema keywords the worker's OpenAPI document uses (TypeBox through @fastify/swagger). */
export interface JsonSchema {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  maxProperties?: number
  items?: JsonSchema
  maxItems?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  minimum?: number
  maximum?: number
}

/** Strings that break naive handling: separators, encodings, traversal, control and wide characters. */
const HOSTILE_STRINGS = [
  '', ' ', '..', '../../etc/passwd', '/', '%', '%00', '%E0%A4%A', '%2F..%2F', '\u0000', '\u202e', '😀', 'null', 'undefined',
  '__proto__', 'constructor', '{"a":1}', '<script>', "' OR 1=1 --", '\\', '?', '#', '&', '=', 'a'.repeat(129), 'é'.repeat(300)
]
export const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 })
)

const anyJson = fc.jsonValue({ maxDepth: 2 })

function typeOf (schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type[0] : schema.type
}

function stringOf (schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0
  // Long enough to reach the bounds, short enough to keep requests small.
  const maxLength = Math.min(schema.maxLength ?? 64, 4096)
  if (schema.pattern !== undefined) {
    return fc.stringMatching(new RegExp(schema.pattern)).filter((value) => value.length >= minLength && value.length <= maxLength)
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength, maxLength: Math.min(maxLength, 48) }) },
    // The bounds themselves.
    fc.constant('x'.repeat(minLength)),
    fc.constant('y'.repeat(maxLength))
  )
}

function numberOf (schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (integer ? -1_000_000 : -1e9)
  const max = schema.maximum ?? (integer ? 1_000_000 : 1e9)
  const inside = integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
  return fc.oneof({ weight: 3, arbitrary: inside }, fc.constantFrom(min, max))
}

/** Values the schema accepts, bounds included. */
export function validValue (schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (union !== undefined) return fc.oneof(...union.map((member) => validValue(member, depth)))
  switch (typeOf(schema)) {
    case 'string': return stringOf(schema)
    case 'integer': return numberOf(schema, true)
    case 'number': return numberOf(schema, false)
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': return fc.array(validValue(schema.items ?? {}, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) })
    case 'object': return objectOf(schema, depth)
    default: return anyJson
  }
}

function objectOf (schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {}
  const model = Object.fromEntries(Object.entries(properties).map(([name, member]) => [name, validValue(member, depth + 1)]))
  const known = fc.record(model, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) })
  const extra = schema.additionalProperties
  if (extra === undefined || extra === false || depth > 2 || Object.keys(properties).length > 0) return known
  // A record of free keys (labels, headers, files, a loosely declared World payload).
  const values = extra === true ? anyJson : validValue(extra, depth + 1)
  return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), values, { maxKeys: Math.min(schema.maxProperties ?? 3, 3) })
}

/** A value of the wrong kind for the schema, or one just past its bounds. */
export function invalidValue (schema: JsonSchema): fc.Arbitrary<unknown> {
  const wrongType = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), hostileString)
  const past: Array<fc.Arbitrary<unknown>> = [wrongType]
  if (schema.maxLength !== undefined) past.push(fc.constant('z'.repeat(schema.maxLength + 1)))
  if (schema.minLength !== undefined && schema.minLength > 0) past.push(fc.constant('z'.repeat(schema.minLength - 1)))
  if (schema.pattern !== undefined) past.push(hostileString)
  if (schema.minimum !== undefined) past.push(fc.constantFrom(schema.minimum - 1, schema.minimum - 0.5))
  if (schema.maximum !== undefined) past.push(fc.constant(schema.maximum + 1))
  if (schema.enum !== undefined) past.push(fc.constant('not-one-of-them'))
  return fc.oneof(...past)
}

/** A valid object with one thing wrong: a member invalid, a required member missing, a member it does not know. */
export function mutatedObject (schema: JsonSchema): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {})
  const base = validValue(schema) as fc.Arbitrary<Record<string, unknown>>
  const mutations: Array<fc.Arbitrary<unknown>> = [
    base.map((value) => ({ ...value, ['unexpected_' + 'field']: 1 })),
    invalidValue(schema)
  ]
  if (properties.length > 0) {
    mutations.push(fc.tuple(base, fc.constantFrom(...properties)).chain(([value, [name, member]]) =>
      invalidValue(member).map((bad) => ({ ...value, [name]: bad }))))
  }
  const required = schema.required ?? []
  if (required.length > 0) {
    mutations.push(fc.tuple(base, fc.constantFrom(...required)).map(([value, name]) => {
      const { [name]: _dropped, ...rest } = value
      return rest
    }))
  }
  return fc.oneof(...mutations)
}
