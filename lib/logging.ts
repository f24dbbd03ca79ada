import type { FastifyServerOptions } from 'fastify'

const REDACTED = '[redacted]'

// Secrets that can sit in a URL path: hook tokens (the lane's by-token route) and webhook tokens.
const SECRET_IN_PATH = /(\/hooks\/by-token\/|\/webhook\/)[^/?#\s"']+/g
// Query parameters whose name says they carry a credential: `token`, `key`, `secret`, `password`,
// `auth`, `signature`, `session` and any name ending in one of them (`access_token`, `api_key`,
// `apiKey`, `client_secret`, `X-Amz-Signature`), in any case.
const SECRET_IN_QUERY = /([?&;][\w.~%-]*?(?:token|key|secret|password|passwd|pwd|auth|authorization|credentials?|signature|sig|session)=)[^&#;\s"']*/gi

/** The URL as it may appear in a log line: bearer-like secrets replaced. */
export function redactUrl (url: string): string {
  return url.replace(SECRET_IN_PATH, `$1${REDACTED}`).replace(SECRET_IN_QUERY, `$1${REDACTED}`)
}

// Shorter values cannot be told from ordinary text (and a token that short is guessed anyway).
const MIN_SECRET_LENGTH = 4

/**
 * A line of text someone else wrote (a deployment's console output) as it may appear in a log:
 * each known secret replaced wherever it appears, as written, URL-encoded or JSON-escaped, and
 * secrets in URLs as `redactUrl` does.
 */
export function redactText (text: string, secrets: Iterable<string>): string {
  let redacted = text
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      if (redacted.includes(form)) redacted = redacted.replaceAll(form, REDACTED)
    }
  }
  return redactUrl(redacted)
}

/** Logger options of the standalone server: JSON lines, secrets never written. */
export function loggerOptions (level = 'info'): NonNullable<Exclude<FastifyServerOptions['logger'], boolean>> {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'headers.authorization', 'headers.cookie'],
      censor: REDACTED
    },
    serializers: {
      req (request: { method: string, url: string, hostname?: string, ip?: string }) {
        return { method: request.method, url: redactUrl(request.url), host: request.hostname, remoteAddress: request.ip }
      }
    }
  }
}
