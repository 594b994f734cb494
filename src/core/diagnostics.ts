import { channel } from 'node:diagnostics_channel';
import type { ResponseHead, TransferResult } from './types.js';

/**
 * The names of the `node:diagnostics_channel` channels every transfer is published on, whatever
 * started it (`transfer()`, `request()`, `download()`, `requestAll()`, a `TransferQueue`, a test
 * Curl). Nothing is built or published while a channel has no subscriber.
 *
 * For one transfer: `start`, at most one `response`, then exactly one of `done` (libcurl completed
 * it, whatever the HTTP status), `error` (libcurl, a handler, an abort by signal or `close()` failed
 * it: its Observable errors) or `cancel` (its subscriber unsubscribed: its Observable just ends).
 * A request refused before it starts (invalid input, a closed Curl, a signal already aborted) is
 * published on none of them.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { TRANSFER_CHANNELS, type TransferStartMessage } from 'rxcurl';
 *
 * subscribe(TRANSFER_CHANNELS.start, (message) => {
 *   const { id, method, url } = message as TransferStartMessage;
 *   console.log(`#${id} ${method} ${url}`);
 * });
 * ```
 */
export const TRANSFER_CHANNELS = {
  /** {@link TransferStartMessage}: the transfer is handed to libcurl. */
  start: 'rxcurl:transfer:start',
  /** {@link TransferResponseMessage}: the final response head arrived. */
  response: 'rxcurl:transfer:response',
  /** {@link TransferDoneMessage}: libcurl completed the transfer. */
  done: 'rxcurl:transfer:done',
  /** {@link TransferErrorMessage}: the transfer failed. */
  error: 'rxcurl:transfer:error',
  /** {@link TransferCancelMessage}: its consumer went away before it ended. */
  cancel: 'rxcurl:transfer:cancel',
} as const;

/**
 * Published on `rxcurl:transfer:start`.
 *
 * @example
 * ```ts
 * subscribe('rxcurl:transfer:start', (m) => starts.set((m as TransferStartMessage).id, performance.now()));
 * ```
 */
export interface TransferStartMessage {
  /** The transfer's id, unique in the process: its `TransferResult.id`, and the key of the messages that follow. */
  id: number;
  /** The URL requested. */
  url: string;
  /** The request method. */
  method: string;
}

/**
 * Published on `rxcurl:transfer:response`, once the final response head (after redirects) arrived.
 *
 * @example
 * ```ts
 * subscribe('rxcurl:transfer:response', (m) => {
 *   const { id, status } = m as TransferResponseMessage;
 *   if (status >= 500) console.warn(`#${id} answered ${status}`);
 * });
 * ```
 */
export interface TransferResponseMessage {
  /** The transfer's id. */
  id: number;
  /** The HTTP status. */
  status: number;
  /** '1.0', '1.1', '2' or '3'. */
  httpVersion: string;
}

/**
 * Published on `rxcurl:transfer:done`, when libcurl completed the transfer.
 *
 * @example
 * ```ts
 * subscribe('rxcurl:transfer:done', (m) => {
 *   const { result } = m as TransferDoneMessage;
 *   console.log(`#${result.id} ${result.status} in ${result.timings.totalMs} ms`);
 * });
 * ```
 */
export interface TransferDoneMessage {
  /** What libcurl reported; `result.id` is the transfer's id. */
  result: TransferResult;
}

/**
 * Published on `rxcurl:transfer:error`, with the error the transfer's Observable errors with.
 *
 * @example
 * ```ts
 * subscribe('rxcurl:transfer:error', (m) => {
 *   const { id, url, error } = m as TransferErrorMessage;
 *   console.warn(`#${id} ${url} failed:`, error);
 * });
 * ```
 */
export interface TransferErrorMessage {
  /** The transfer's id. */
  id: number;
  /** The URL requested. */
  url: string;
  /** A CurlError, or what a handler threw while the transfer ran. */
  error: unknown;
}

/**
 * Published on `rxcurl:transfer:cancel`, when the transfer's consumer unsubscribed before it ended.
 *
 * @example
 * ```ts
 * subscribe('rxcurl:transfer:cancel', (m) => pending.delete((m as TransferCancelMessage).id));
 * ```
 */
export interface TransferCancelMessage {
  /** The transfer's id. */
  id: number;
  /** The URL requested. */
  url: string;
}

// Created once, and held here: the cost of an event nobody listens to is one `hasSubscribers` read.
const start = channel(TRANSFER_CHANNELS.start);
const response = channel(TRANSFER_CHANNELS.response);
const done = channel(TRANSFER_CHANNELS.done);
const error = channel(TRANSFER_CHANNELS.error);
const cancel = channel(TRANSFER_CHANNELS.cancel);

export function publishStart(id: number, url: string, method: string): void {
  if (start.hasSubscribers) start.publish({ id, url, method } satisfies TransferStartMessage);
}

export function publishResponse(id: number, head: ResponseHead): void {
  if (response.hasSubscribers)
    response.publish({
      id,
      status: head.status,
      httpVersion: head.httpVersion,
    } satisfies TransferResponseMessage);
}

export function publishDone(result: TransferResult): void {
  if (done.hasSubscribers) done.publish({ result } satisfies TransferDoneMessage);
}

export function publishError(id: number, url: string, err: unknown): void {
  if (error.hasSubscribers) error.publish({ id, url, error: err } satisfies TransferErrorMessage);
}

export function publishCancel(id: number, url: string): void {
  if (cancel.hasSubscribers) cancel.publish({ id, url } satisfies TransferCancelMessage);
}
