import { Type, type TObjectOptions, type TSchema } from 'typebox'

/** A page of a list route (`lib/pagination.ts` Page): follow `cursor` while `hasMore`. */
export function PageOf<T extends TSchema> (item: T, options?: TObjectOptions) {
  return Type.Object({
    data: Type.Array(item),
    cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass back as ?cursor= for the next page' }),
    hasMore: Type.Boolean()
  }, options)
}

/** `limit` and `cursor` of a list route's query string. */
export function pageQuery (maxLimit: number, defaultLimit: number) {
  return {
    limit: Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit }),
    cursor: Type.Optional(Type.String({ maxLength: 2048 }))
  }
}
