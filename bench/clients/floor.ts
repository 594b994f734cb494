/**
 * The floor under rxcurl: the thinnest koffi loop over the libcurl calls rxcurl makes. libcurl is
 * loaded as rxcurl loads it (RXCURL_LIBCURL, else libcurl.so.4); one poll handle per fd
 * (koffi.node.poll), `curl_multi_socket_action` from its callback and from a timer, one registered
 * socket, timer and write callback for the process, easy handles reused per slot with fixed-arity
 * setopt prototypes (x86-64 and Linux arm64, as rxcurl), bytes counted and never copied (written
 * straight from libcurl's buffer for the download workload). Per transfer it reads only what the C
 * program reads: the CURLMsg, the status and the HTTP version. No RxJS, no response head, no result.
 */
import { writeSync } from 'node:fs';
import koffi, { type node } from 'koffi';
import { httpVersionOf, RECEIVE_BUFFER_BYTES, runNodeClient, SlotPool } from '../job.js';

const CURL_GLOBAL_ALL = 3;
const CURLOPT_URL = 10002;
const CURLOPT_WRITEFUNCTION = 20011;
const CURLOPT_BUFFERSIZE = 98;
const CURLOPT_HTTP_VERSION = 84;
const CURLOPT_SSL_VERIFYPEER = 64;
const CURLOPT_SSL_VERIFYHOST = 81;
const CURLOPT_PIPEWAIT = 237;
const CURL_HTTP_VERSION_2TLS = 4;
const CURLMOPT_SOCKETFUNCTION = 20001;
const CURLMOPT_TIMERFUNCTION = 20004;
const CURLMOPT_PIPELINING = 3;
const CURLPIPE_MULTIPLEX = 2;
const CURLINFO_RESPONSE_CODE = 0x200002;
const CURLINFO_HTTP_VERSION = 0x200000 + 46;
const CURLMSG_DONE = 1;
const CURL_POLL_IN = 1;
const CURL_POLL_OUT = 2;
const CURL_POLL_REMOVE = 4;
const CURL_CSELECT_IN = 1;
const CURL_CSELECT_OUT = 2;
const CURL_CSELECT_ERR = 4;
const CURL_SOCKET_TIMEOUT = -1;

if (!(process.arch === 'x64' || (process.arch === 'arm64' && process.platform === 'linux')))
  throw new Error('the floor client uses fixed-arity setopt prototypes: x86-64 or Linux arm64 only');

const lib = koffi.load(process.env.RXCURL_LIBCURL || 'libcurl.so.4');
const globalInit = lib.func('int curl_global_init(long flags)');
const multiInit = lib.func('intptr_t curl_multi_init()') as () => number;
const multiCleanup = lib.func('int curl_multi_cleanup(intptr_t multi)') as (m: number) => number;
const multiSetoptLong = lib.func('curl_multi_setopt', 'int', ['intptr_t', 'int', 'long']);
const multiSetoptPointer = lib.func('curl_multi_setopt', 'int', ['intptr_t', 'int', 'void *']);
const easyInit = lib.func('intptr_t curl_easy_init()') as () => number;
const easyCleanup = lib.func('void curl_easy_cleanup(intptr_t easy)') as (e: number) => void;
const setoptLong = lib.func('curl_easy_setopt', 'int', ['intptr_t', 'int', 'long']);
const setoptString = lib.func('curl_easy_setopt', 'int', ['intptr_t', 'int', 'const char *']);
const setoptPointer = lib.func('curl_easy_setopt', 'int', ['intptr_t', 'int', 'void *']);
const getinfoLong = lib.func('curl_easy_getinfo', 'int', ['intptr_t', 'int', 'void *']) as (
  e: number,
  info: number,
  out: Int32Array,
) => number;
const addHandle = lib.func('int curl_multi_add_handle(intptr_t multi, intptr_t easy)') as (
  m: number,
  e: number,
) => number;
const removeHandle = lib.func('int curl_multi_remove_handle(intptr_t multi, intptr_t easy)') as (
  m: number,
  e: number,
) => number;
const socketAction = lib.func(
  'int curl_multi_socket_action(intptr_t multi, int fd, int evBitmask, _Out_ int *running)',
) as (m: number, fd: number, ev: number, running: Int32Array) => number;
const infoRead = lib.func('void *curl_multi_info_read(intptr_t multi, _Out_ int *left)') as (
  m: number,
  left: Int32Array,
) => bigint | null;

const SocketCallback = koffi.proto(
  'int floor_socket_cb(intptr_t easy, int fd, int what, intptr_t userp, intptr_t socketp)',
);
const TimerCallback = koffi.proto('int floor_timer_cb(intptr_t multi, long timeoutMs, intptr_t userp)');
const WriteCallback = koffi.proto(
  'size_t floor_write_cb(void *ptr, size_t size, size_t nmemb, intptr_t userdata)',
);

await runNodeClient((job) => {
  if (globalInit(CURL_GLOBAL_ALL) !== 0) throw new Error('curl_global_init failed');
  const multi = multiInit();
  const running = new Int32Array(1);
  const left = new Int32Array(1);
  const info = new Int32Array(2); // a long
  const version = httpVersionOf(job).curl;
  const polls = new Map<number, { handle: node.PollHandle; onPoll: (ev: node.PollEvents) => void }>();
  let timeout: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;

  /** Every finished transfer: copy what the message says, free the slot, start the next one. */
  const drain = (): void => {
    for (let msg = infoRead(multi, left); msg !== null; msg = infoRead(multi, left)) {
      if (koffi.decode(msg, 0, 'int') !== CURLMSG_DONE) continue;
      const easy = koffi.decode(msg, 8, 'intptr_t') as number;
      const result = koffi.decode(msg, 16, 'int') as number;
      getinfoLong(easy, CURLINFO_RESPONSE_CODE, info);
      const status = info[0];
      getinfoLong(easy, CURLINFO_HTTP_VERSION, info);
      removeHandle(multi, easy);
      pool.finished(easy, result === 0 && status === 200 && info[0] === version);
    }
  };

  const act = (fd: number, events: number): void => {
    socketAction(multi, fd, events, running);
    drain();
  };
  const expire = (): void => {
    timeout = immediate = undefined;
    act(CURL_SOCKET_TIMEOUT, 0);
  };

  const onSocket = (_easy: number, fd: number, what: number): number => {
    let poll = polls.get(fd);
    if (what === CURL_POLL_REMOVE) {
      // Stopped, not closed: libcurl sends REMOVE when a keep-alive connection goes idle, and the
      // next transfer on it starts the same handle again (a stopped handle is out of epoll, so the
      // fd may also close and come back as another socket). Saves a handle per transfer (~5 µs).
      poll?.handle.stop();
      return 0;
    }
    const interest = { readable: (what & CURL_POLL_IN) !== 0, writable: (what & CURL_POLL_OUT) !== 0 };
    if (poll === undefined) {
      // koffi passes (status, events) although its typings declare one argument.
      const onPoll = ((status: number, ev: node.PollEvents): void =>
        act(
          fd,
          status < 0
            ? CURL_CSELECT_ERR
            : (ev.readable ? CURL_CSELECT_IN : 0) | (ev.writable ? CURL_CSELECT_OUT : 0),
        )) as unknown as (ev: node.PollEvents) => void;
      poll = { handle: koffi.node.poll(fd, interest, onPoll), onPoll };
      polls.set(fd, poll);
    } else if (interest.readable || interest.writable) {
      poll.handle.start(interest, poll.onPoll);
    } else {
      poll.handle.stop();
    }
    return 0;
  };

  // libcurl's one timer: -1 deletes it, 0 expires on the next turn of the loop, n in n ms.
  const onTimer = (_multi: number, ms: number): number => {
    clearTimeout(timeout);
    clearImmediate(immediate);
    timeout = immediate = undefined;
    if (ms === 0) immediate = setImmediate(expire);
    else if (ms > 0) timeout = setTimeout(expire, ms);
    return 0;
  };

  const onWrite = (ptr: bigint, _size: number, nmemb: number): number => {
    const { tally, file } = pool;
    if (tally === undefined) return 0;
    tally.bytes += nmemb;
    if (file !== undefined) writeSync(file, new Uint8Array(koffi.view(ptr, nmemb)));
    return nmemb;
  };

  const callbacks = [
    koffi.register(onSocket, koffi.pointer(SocketCallback)),
    koffi.register(onTimer, koffi.pointer(TimerCallback)),
    koffi.register(onWrite, koffi.pointer(WriteCallback)),
  ];
  multiSetoptPointer(multi, CURLMOPT_SOCKETFUNCTION, callbacks[0]);
  multiSetoptPointer(multi, CURLMOPT_TIMERFUNCTION, callbacks[1]);
  multiSetoptLong(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

  const create = (): number => {
    const easy = easyInit();
    setoptString(easy, CURLOPT_URL, job.url);
    setoptPointer(easy, CURLOPT_WRITEFUNCTION, callbacks[2]);
    setoptLong(easy, CURLOPT_BUFFERSIZE, RECEIVE_BUFFER_BYTES);
    if (job.h2) {
      setoptLong(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      setoptLong(easy, CURLOPT_SSL_VERIFYPEER, 0);
      setoptLong(easy, CURLOPT_SSL_VERIFYHOST, 0);
      setoptLong(easy, CURLOPT_PIPEWAIT, 1);
    }
    return easy;
  };

  const pool = new SlotPool(job, create, (easy) => addHandle(multi, easy));

  return {
    run: (count) => pool.run(count),
    close: async () => {
      clearTimeout(timeout);
      clearImmediate(immediate);
      for (const easy of pool.slots) easyCleanup(easy);
      multiCleanup(multi); // may still call the socket callback: it is registered for good
      for (const poll of polls.values()) poll.handle.close();
      polls.clear();
    },
  };
});
