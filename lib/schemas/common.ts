import { Type } from 'typebox'

/** The body of every error: `{ code, message, correlationId }` plus details (validation paths …). */
export const ErrorResponse = Type.Object({
  code: Type.String({ description: 'snake_case error code (the table of codes and statuses is http/errors.ts)', examples: ['validation_error'] }),
  message: Type.String({ description: 'A human sentence' }),
  correlationId: Type.String({ description: 'The x-workflow-correlation-id of the request' })
}, { additionalProperties: true, title: 'Error' })

/** The error responses every authenticated route can give. */
export const AUTHENTICATED_ERRORS = {
  401: ErrorResponse,
  403: ErrorResponse,
  429: ErrorResponse,
  500: ErrorResponse
} as const
