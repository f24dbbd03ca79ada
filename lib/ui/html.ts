/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is itself
 * `Html` (a fragment built the same way), so fragments compose without double escaping and no
 * value reaches a page unescaped by accident.
 */
export class Html {
  constructor (readonly text: string) {}

  toString (): string {
    return this.text
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char])
}

/** Renders one interpolated value: fragments as they are, lists joined, nothing for null, false and undefined. */
function fragment (value: unknown): string {
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(fragment).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html (strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0]
  for (let i = 0; i < values.length; i++) text += fragment(values[i]) + strings[i + 1]
  return new Html(text)
}

/** A fragment from text this code wrote itself (never from a request or a run). */
export function trusted (text: string): Html {
  return new Html(text)
}
