// Errors as Text Embeddings Inference writes them: `{ error, error_type }`, the status following the
// type (TEI's router maps validation -> 413, tokenizer -> 422, empty -> 400, backend -> 424).

export type ErrorType = 'validation' | 'tokenizer' | 'empty' | 'backend' | 'overloaded' | 'unhealthy' | 'not_found';

export interface ErrorBody {
  error: string;
  error_type: ErrorType;
}

const STATUS: Record<ErrorType, number> = {
  validation: 413,
  tokenizer: 422,
  empty: 400,
  backend: 424,
  overloaded: 429,
  unhealthy: 503,
  not_found: 404,
};

/** An error a route answers with; `status` defaults to the one TEI gives its type. */
export class ApiError extends Error {
  readonly status: number;
  readonly errorType: ErrorType;
  constructor(message: string, errorType: ErrorType, status?: number) {
    super(message);
    this.name = 'ApiError';
    this.errorType = errorType;
    this.status = status ?? STATUS[errorType];
  }

  body(): ErrorBody {
    return { error: this.message, error_type: this.errorType };
  }
}

/** A request whose JSON has the wrong shape: 422, as axum (TEI's framework) answers failed deserialization. */
export function badShape(message: string): ApiError {
  return new ApiError(message, 'validation', 422);
}
