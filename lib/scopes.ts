export const PUBLIC_SCOPES = ['trigger:write', 'runs:read', 'runs:write', 'deploy:read', 'deploy:write'] as const
export const INTERNAL_SCOPES = ['world:proxy'] as const
/** Reading what operators look at (the audit log), apart from what applications do. */
export const OPERATION_SCOPES = ['audit:read'] as const
export const SCOPES = [...PUBLIC_SCOPES, ...INTERNAL_SCOPES, ...OPERATION_SCOPES] as const

export type Scope = typeof SCOPES[number]

export function isScope (value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value)
}
