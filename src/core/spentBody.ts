/**
 * Errors and responses of an attempt that consumed a one-shot request body (a Readable): sending
 * the request again cannot send that body again, so retrying it cannot help.
 */
const spent = new WeakSet<object>();

export function markSpentBody(value: object): void {
  spent.add(value);
}

export function hasSpentBody(value: unknown): boolean {
  return typeof value === 'object' && value !== null && spent.has(value);
}
