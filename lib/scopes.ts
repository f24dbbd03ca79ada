export const PUBLIC_SCOPES = ['trigger:write', 'runs:read', 'runs:write', 'deploy:read', 'deploy:write'] as const
export const INTERNAL_SCOPES = ['world:proxy'] as const
/** What operators' tools hold: Prometheus scraping `GET /metrics`. */
export const OPERATIONS_SCOPES = ['metrics:read'] as const
export const SCOPES = [...PUBLIC_SCOPES, ...INTERNAL_SCOPES, ...OPERATIONS_SCOPES] as const

export type Scope = typeof SCOPES[number]

export function isScope (value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value)
}
