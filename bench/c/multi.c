/* The ceiling: libcurl's multi_socket API driven by epoll, no JavaScript.
 * usage: multi URL TOTAL CONCURRENCY [h1|h2] [OUTFILE]
 *   h2: HTTP/2 over TLS without certificate checks, multiplexed (PIPEWAIT) on one connection.
 *   OUTFILE: bodies are written there (else only counted).
 * Easy handles are reused per slot; the receive buffer is 100 KiB, as in curl's CLI.
 * Prints one JSON line: requests, bytes, seconds, failures (libcurl error, status != 200, or not the HTTP
 * version asked for), CPU time
 * of the transfer loop, peak RSS, and the RSS before the first transfer, after the last one and after
 * curl_multi_cleanup (and malloc_trim), in KiB. */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int epfd;
static long long deadline_ms = -1; /* libcurl's timer, on CLOCK_MONOTONIC; -1 when unset */
static long long bytes;
static long started, done, failures, total;
static const char *url;
static FILE *out;
static int h2;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static long long cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static size_t on_write(char *ptr, size_t size, size_t n, void *ud) {
  (void)ud;
  size_t len = size * n;
  bytes += (long long)len;
  if (out && fwrite(ptr, 1, len, out) != len) return 0;
  return len;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *up, void *sp) {
  (void)e;
  CURLM *m = up;
  if (what == CURL_POLL_REMOVE) {
    if (sp) epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL); /* fails harmlessly when the fd is already closed */
    curl_multi_assign(m, s, NULL);
    return 0;
  }
  struct epoll_event ev = {0};
  ev.data.fd = s;
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (sp) {
    epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
  } else {
    epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
    curl_multi_assign(m, s, (void *)1);
  }
  return 0;
}

static int on_timer(CURLM *m, long ms, void *up) {
  (void)m;
  (void)up;
  deadline_ms = ms < 0 ? -1 : now_ms() + ms;
  return 0;
}

static void start(CURLM *m, CURL *e) {
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_multi_add_handle(m, e);
  started++;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL TOTAL CONCURRENCY [h1|h2] [OUTFILE]\n", argv[0]);
    return 2;
  }
  url = argv[1];
  total = atol(argv[2]);
  long conc = atol(argv[3]);
  h2 = argc > 4 && strcmp(argv[4], "h2") == 0;
  if (argc > 5 && !(out = fopen(argv[5], "wb"))) {
    perror(argv[5]);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  epfd = epoll_create1(0);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  long baseline_kb = rss_kb();
  long long cpu0 = cpu_us();
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < conc && started < total; i++) {
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 102400L);
    if (h2) {
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    }
    start(m, e);
  }
  int running = 1;
  struct epoll_event evs[256];
  while (done < total) {
    long long wait = deadline_ms < 0 ? 1000 : deadline_ms - now_ms();
    int n = epoll_wait(epfd, evs, 256, wait < 0 ? 0 : (int)wait);
    for (int i = 0; i < n; i++) {
      int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                 (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(m, evs[i].data.fd, mask, &running);
    }
    if (deadline_ms >= 0 && now_ms() >= deadline_ms) {
      deadline_ms = -1;
      curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle;
      long status = 0, version = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
      if (msg->data.result != CURLE_OK || status != 200 || version != (h2 ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1))
        failures++;
      curl_multi_remove_handle(m, e);
      done++;
      if (started < total) start(m, e);
      else curl_easy_cleanup(e);
    }
  }
  if (out && fclose(out) != 0) failures++;
  double secs = seconds_since(&t0);
  long long cpu = cpu_us() - cpu0;
  long after_kb = rss_kb();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  curl_multi_cleanup(m);
  curl_global_cleanup();
  malloc_trim(0); /* what the allocator keeps free for later is not memory the program kept */
  long closed_kb = rss_kb();
  printf("{\"requests\":%ld,\"bytes\":%lld,\"seconds\":%.6f,\"failures\":%ld,\"cpuUs\":%lld,\"peakRssKb\":%ld,"
         "\"baselineRssKb\":%ld,\"afterRssKb\":%ld,\"closedRssKb\":%ld}\n",
         done, bytes, secs, failures, cpu, ru.ru_maxrss, baseline_kb, after_kb, closed_kb);
  return failures ? 1 : 0;
}
