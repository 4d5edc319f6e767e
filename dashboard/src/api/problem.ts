/** Errors as the app sees them: RFC 9457 problems, beat's {code,message}, network failures. */
import { parseRetryAfter } from '../lib/retry';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

export type ErrorKind = 'http' | 'network' | 'aborted';

export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly problem: Problem;
  /** seconds, from Retry-After */
  readonly retryAfter: number | null;
  readonly requestId: string | null;
  readonly wwwAuthenticate: string | null;

  constructor(
    kind: ErrorKind,
    problem: Problem,
    extra: { retryAfter?: number | null; requestId?: string | null; wwwAuthenticate?: string | null } = {},
  ) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = extra.retryAfter ?? null;
    this.requestId = extra.requestId ?? null;
    this.wwwAuthenticate = extra.wwwAuthenticate ?? null;
  }

  /** The most specific human text: the problem's detail, else its title. */
  get detail(): string {
    return this.problem.detail || this.problem.title;
  }
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Turns any error body into a Problem: a problem document, beat's {code,message}, plain text or nothing. */
export function toProblem(status: number, body: unknown, statusText = ''): Problem {
  const title = STATUS_TITLES[status] || statusText || `HTTP ${status}`;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);
    return {
      type: str(b.type) ?? 'about:blank',
      title: str(b.title) ?? title,
      status: typeof b.status === 'number' ? b.status : status,
      detail: str(b.detail) ?? str(b.message) ?? str(b.error),
    };
  }
  if (typeof body === 'string' && body.trim() && body.length < 500 && !/^\s*</.test(body)) {
    return { type: 'about:blank', title, status, detail: body.trim() };
  }
  return { type: 'about:blank', title, status };
}

/** Builds an ApiError from a non-2xx Response (reads its body). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    const text = await res.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } catch {
    body = null;
  }
  return new ApiError('http', toProblem(res.status, body, res.statusText), {
    retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    requestId: res.headers.get('x-request-id'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
  });
}

export function networkError(cause: unknown): ApiError {
  const aborted = cause instanceof DOMException && cause.name === 'AbortError';
  return new ApiError(
    aborted ? 'aborted' : 'network',
    {
      type: 'about:blank',
      title: aborted ? 'Cancelled' : 'Network error',
      status: 0,
      detail: aborted ? 'The request was cancelled.' : 'Could not reach bulbul. Check your connection.',
    },
  );
}
