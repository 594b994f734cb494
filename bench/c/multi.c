/* The ceiling: libcurl's multi_socket API driven by epoll, no JavaScript.
 * usage: multi URL TOTAL CONCURRENCY [h2]
 * Prints one JSON line: requests, bytes, seconds, failures. Easy handles are reused per slot. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

static int epfd;
static long timeout_ms = -1;
static long long bytes;
static long started, done, failures, total;
static const char *url;
static int h2;

static size_t on_write(char *ptr, size_t size, size_t n, void *ud) { (void)ptr; (void)ud; bytes += (long long)(size * n); return size * n; }

static int on_socket(CURL *e, curl_socket_t s, int what, void *up, void *sp) {
  (void)e; (void)up;
  struct epoll_event ev = {0};
  ev.data.fd = s;
  if (what == CURL_POLL_REMOVE) {
    if (sp) epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    curl_multi_assign(up ? up : NULL, s, NULL);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (sp) epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
  else { epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev); curl_multi_assign((CURLM *)up, s, (void *)1); }
  return 0;
}

static int on_timer(CURLM *m, long ms, void *up) { (void)m; (void)up; timeout_ms = ms; return 0; }

static void start(CURLM *m, CURL *e) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_multi_add_handle(m, e);
  started++;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s URL TOTAL CONCURRENCY [h2]\n", argv[0]); return 2; }
  url = argv[1]; total = atol(argv[2]); int conc = atoi(argv[3]); h2 = argc > 4;
  curl_global_init(CURL_GLOBAL_ALL);
  epfd = epoll_create1(0);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < conc && started < total; i++) {
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 102400L);
    if (h2) { curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS); curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L); curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L); curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); }
    start(m, e);
  }
  int running = 1;
  struct epoll_event evs[256];
  while (done < total) {
    int n = epoll_wait(epfd, evs, 256, timeout_ms < 0 ? 1000 : (int)timeout_ms);
    if (n == 0) curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    for (int i = 0; i < n; i++) {
      int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) | (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(m, evs[i].data.fd, mask, &running);
    }
    CURLMsg *msg; int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle; long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK || status != 200) failures++;
      curl_multi_remove_handle(m, e);
      done++;
      if (started < total) start(m, e); else curl_easy_cleanup(e);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("{\"requests\":%ld,\"bytes\":%lld,\"seconds\":%.4f,\"failures\":%ld}\n", done, bytes, secs, failures);
  curl_multi_cleanup(m);
  return failures ? 1 : 0;
}
