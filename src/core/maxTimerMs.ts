/**
 * The longest delay Node's timers take (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms
 * instead, which for libcurl's timer means a busy loop for as long as a transfer waits.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
