import type { FastifyServerOptions } from 'fastify'

// Secrets that can sit in a URL: hook tokens (path and query) and webhook tokens.
const SECRET_IN_PATH = /(\/hooks\/by-token\/|\/webhook\/)[^/?#]+/g
const SECRET_IN_QUERY = /([?&](?:token|key|api_key|apiKey)=)[^&#]*/gi

/** The URL as it may appear in a log line: bearer-like secrets replaced. */
export function redactUrl (url: string): string {
  return url.replace(SECRET_IN_PATH, '$1[redacted]').replace(SECRET_IN_QUERY, '$1[redacted]')
}

/** Logger options of the standalone server: JSON lines, secrets never written. */
export function loggerOptions (level = 'info'): NonNullable<Exclude<FastifyServerOptions['logger'], boolean>> {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]'
    },
    serializers: {
      req (request: { method: string, url: string, hostname?: string, ip?: string }) {
        return { method: request.method, url: redactUrl(request.url), host: request.hostname, remoteAddress: request.ip }
      }
    }
  }
}
