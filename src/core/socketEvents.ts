// The socket vocabulary of libcurl's multi_socket API (multi.h), shared by every driver.

/** Interest announced by CURLMOPT_SOCKETFUNCTION. */
export const CURL_POLL_NONE = 0;
export const CURL_POLL_IN = 1;
export const CURL_POLL_OUT = 2;
export const CURL_POLL_INOUT = 3;
export const CURL_POLL_REMOVE = 4;

/** Readiness passed to curl_multi_socket_action. */
export const CURL_CSELECT_IN = 1;
export const CURL_CSELECT_OUT = 2;
export const CURL_CSELECT_ERR = 4;

/** The fd that means "the timer expired". */
export const CURL_SOCKET_TIMEOUT = -1;
