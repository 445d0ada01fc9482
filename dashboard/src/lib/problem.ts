// RFC 9457 problem details from the API, read defensively: `plain.ts` says them to a person.

export interface FieldProblem {
  field?: string
  message?: string
  code?: string
}

export interface Problem {
  type?: string
  title?: string
  status?: number
  detail?: string
  errors?: FieldProblem[]
  [extra: string]: unknown
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** Seconds, from the answer's Retry-After header. */
    readonly retryAfter?: number,
  ) {
    super(problem.title || `HTTP ${status}`)
  }
}

const FALLBACK: Record<number, string> = {
  0: 'The API could not be reached',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Invalid input',
  429: 'Too Many Requests',
  500: 'Something went wrong on the server',
  502: 'A platform did not answer',
  503: 'Service Unavailable',
}

/** A body that is not a problem (an HTML error page, a stack trace) is never shown as is. */
export function asProblem(status: number, body: unknown): Problem {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>
    const problem: Problem = { status }
    if (typeof b.title === 'string') problem.title = b.title
    if (typeof b.detail === 'string') problem.detail = b.detail
    if (typeof b.type === 'string') problem.type = b.type
    if (Array.isArray(b.errors)) {
      problem.errors = b.errors.filter(
        (e): e is FieldProblem => !!e && typeof e === 'object',
      )
    }
    if (problem.title || problem.detail) return problem
  }
  return { status, title: FALLBACK[status] ?? `Request failed (${status})` }
}
