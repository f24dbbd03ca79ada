export const PUBLIC_SCOPES = ['trigger:write', 'runs:read', 'runs:write', 'deploy:read', 'deploy:write'] as const
export const INTERNAL_SCOPES = ['world:proxy'] as const
/** What operators and their tools read: the audit log, Prometheus scraping `GET /metrics`. */
export const OPERATION_SCOPES = ['audit:read', 'metrics:read'] as const
export const SCOPES = [...PUBLIC_SCOPES, ...INTERNAL_SCOPES, ...OPERATION_SCOPES] as const

export type Scope = typeof SCOPES[number]

export function isScope (value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value)
}
