import { CurlError, HttpError } from '../index.js';

/** How one URL ended. */
export interface Outcome {
  url: string;
  /** The file name in the output folder. */
  name: string;
  status: 'ok' | 'failed' | 'cancelled';
  /** Bytes in the file (for a resumed file, the whole file). */
  bytes: number;
  /** libcurl's total time of the successful attempt, in ms. */
  totalMs?: number;
  /** `--update`: the file was current and left as it was (status 'ok', 0 bytes). */
  notModified?: boolean;
  /** Attempts made; more than 1 after retries. */
  attempts: number;
  /** For a failure: what the summary groups by, `CURLE_…` (libcurl's code name) or `HTTP <status>`. */
  reason?: string;
  /** For a failure: the error's message; empty for an HTTP status. */
  message?: string;
}

/** The summary key and message of an error: the libcurl code name, `HTTP <status>`, or the error's own code. */
export function describeFailure(error: unknown): { reason: string; message: string } {
  if (error instanceof HttpError) return { reason: `HTTP ${error.status}`, message: '' };
  if (error instanceof CurlError) return { reason: error.codeName, message: error.message };
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    reason: typeof code === 'string' ? code : 'ERROR',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The one line printed when a URL is finished. */
export function outcomeLine(o: Outcome): string {
  const retried = o.attempts > 1 ? `, ${o.attempts - 1} ${o.attempts === 2 ? 'retry' : 'retries'}` : '';
  switch (o.status) {
    case 'ok':
      if (o.notModified)
        return `not modified ${o.name} (${Math.round(o.totalMs ?? 0)} ms${retried}) ${o.url}`;
      return `ok ${o.name} (${o.bytes} bytes, ${Math.round(o.totalMs ?? 0)} ms${retried}) ${o.url}`;
    case 'failed':
      return `failed ${o.name} ${o.reason}${o.message ? `: ${o.message}` : ''}${retried ? ` (${retried.slice(2)})` : ''} ${o.url}`;
    case 'cancelled':
      return `cancelled ${o.name} ${o.url}`;
  }
}
