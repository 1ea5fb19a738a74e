// One shape for a step that can fail: a value, or an error that says why. Steps that fail for a
// reason a caller must tell apart give a tagged error (a Rejection's `reason`, a lookup's `kind`);
// callers check `ok` and are made by the compiler to handle both. Retryable failures are not
// results: they throw, to the provider's retry or the alarm's.

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Err<E> {
  readonly ok: false;
  readonly error: E;
}

export type Result<T, E> = Ok<T> | Err<E>;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const err = <E>(error: E): Err<E> => ({ ok: false, error });

/** A thrown value as one line for logs and stored errors: name and message, never a stack. */
export function errorText(thrown: unknown, maxLength = 200): string {
  const text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : "unknown error";
  return text.slice(0, maxLength);
}
