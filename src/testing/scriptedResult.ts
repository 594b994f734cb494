import type { DriverTransfer } from '../core/MultiDriver.js';
import type { TransferResult } from '../core/types.js';
import { curlCodeName } from '../errors/curlCodes.js';

/** How a scripted transfer ended. */
export interface ScriptedOutcome {
  code: number;
  message: string;
  status: number;
  httpVersion: string;
  downloadedBytes: number;
  /** Connections made: 1 once the script ran, 0 for a transfer that never connected (no route). */
  connects: number;
  /** Virtual milliseconds from start to end. */
  elapsed: number;
}

/** The TransferResult libcurl would report for a scripted transfer that ended so. */
export function scriptedResult(transfer: DriverTransfer, outcome: ScriptedOutcome): TransferResult {
  const { request } = transfer;
  const { code, elapsed } = outcome;
  return {
    id: transfer.id,
    url: request.url,
    effectiveUrl: request.url,
    method: request.method,
    ok: code === 0,
    code,
    codeName: curlCodeName(code),
    message: outcome.message,
    status: outcome.status,
    httpVersion: outcome.httpVersion,
    downloadedBytes: outcome.downloadedBytes,
    uploadedBytes: request.body?.kind === 'bytes' ? request.body.bytes.byteLength : 0,
    redirects: 0,
    primaryIp: '',
    primaryPort: 0,
    // Each scripted transfer gets a socket of its own.
    connects: outcome.connects,
    connectionReused: false,
    timings: { dnsMs: 0, connectMs: 0, tlsMs: 0, firstByteMs: elapsed, totalMs: elapsed, redirectMs: 0 },
  };
}
