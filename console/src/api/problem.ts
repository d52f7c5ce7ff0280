/** API errors (RFC 9457 problem+json) turned into words, by field where the API names one. */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly errors: FieldError[];
  readonly retryAfter?: number;

  constructor(status: number, body: unknown, retryAfter?: number) {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined;
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors)
      ? (problem.errors as FieldError[]).filter((e) => typeof e?.field === 'string')
      : [];
    this.retryAfter = retryAfter;
  }

  /**
   * The errors of body fields, keyed by their path below the body (`idToken.idToken`): the
   * API names them `body.idToken.idToken`, or without `body.` when the body was valid but the
   * station's protocol cannot express a field (`type`); query, path and header fields are not
   * the body's.
   */
  bodyFieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.errors) {
      if (/^(query|path|header|cookie)(\.|$)/.test(e.field)) continue;
      const path = e.field.replace(/^body\.?/, '');
      out[path] = out[path] ? `${out[path]}; ${e.message}` : e.message;
    }
    return out;
  }
}

/** One sentence an operator understands, for the statuses a page meets. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const why = error.detail ?? error.title;
  switch (error.status) {
    case 401:
      return `Your sign-in is no longer valid (${why}). Sign in again.`;
    case 403:
      return `Your role may not do this: ${why}`;
    case 404:
      return `Not found: ${why}`;
    case 409:
      return `Conflict: ${why}`;
    case 422:
      return error.errors.length
        ? `The request is not valid: ${error.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`
        : `The request is not valid: ${why}`;
    case 429:
      return `Too many requests: ${why}${error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ''}`;
    default:
      return why;
  }
}
