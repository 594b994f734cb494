import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import koffi from 'koffi';
import { BehaviorSubject, Subject } from 'rxjs';
import {
  CURL_CSELECT_IN,
  CURL_CSELECT_OUT,
  CURL_POLL_IN,
  CURL_POLL_INOUT,
  CURL_POLL_NONE,
  CURL_POLL_OUT,
} from '../../src/core/socketEvents.js';
import { SocketPolls } from '../../src/native/SocketPolls.js';

// Raw sockets that Node's own loop does not watch, so the adapter is the only poller of them.
const libc = koffi.load(null);
const socketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
const write = libc.func('long write(int fd, const char *buf, size_t n)');
const read = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t n)');
const close = libc.func('int close(int fd)');
const AF_UNIX = 1;
const SOCK_STREAM = 1;

function pair(): [number, number] {
  const fds = new Int32Array(2);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) !== 0) throw new Error('socketpair failed');
  return [fds[0], fds[1]];
}

/** A SocketPolls and a socket pair, all closed when the test ends. */
function pollsWithPair(t: ExecutionContext): { polls: SocketPolls; a: number; b: number } {
  const polls = new SocketPolls();
  const [a, b] = pair();
  t.teardown(() => {
    polls.closeAll();
    close(a);
    close(b);
  });
  return { polls, a, b };
}

/**
 * The next event, or 'timeout' after `timeoutMs`. A short timeout checks that nothing comes (an event
 * that is late on a busy machine can only make such a check pass); an event that must come gets a
 * generous one, so that only a missing event fails.
 */
function nextEvent(
  events: Subject<number> | { subscribe: Subject<number>['subscribe'] },
  timeoutMs = 30_000,
) {
  return new Promise<number | 'timeout'>((resolve) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      resolve('timeout');
    }, timeoutMs);
    const sub = events.subscribe((ev) => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(ev);
    });
  });
}

test('emits CURL_CSELECT_OUT for a writable socket and CURL_CSELECT_IN once data arrives', async (t) => {
  const { polls, a, b } = pollsWithPair(t);
  const interest = new BehaviorSubject(CURL_POLL_OUT);
  const events = new Subject<number>();
  const sub = polls.watch(a, interest).subscribe(events);
  t.is(await nextEvent(events), CURL_CSELECT_OUT);

  interest.next(CURL_POLL_IN);
  t.is(await nextEvent(events, 100), 'timeout', 'nothing to read yet');
  write(b, 'x', 1);
  t.is(await nextEvent(events), CURL_CSELECT_IN);
  read(a, new Uint8Array(1), 1);

  interest.next(CURL_POLL_INOUT);
  t.is(await nextEvent(events), CURL_CSELECT_OUT);
  sub.unsubscribe();
});

test('completing the interest (CURL_POLL_REMOVE) stops the events and closes the handle of an fd not ours', async (t) => {
  const { polls, a, b } = pollsWithPair(t);
  const interest = new BehaviorSubject(CURL_POLL_IN);
  const events = new Subject<number>();
  let completed = false;
  polls.watch(a, interest).subscribe({ next: (ev) => events.next(ev), complete: () => (completed = true) });
  interest.complete();
  t.true(completed);
  write(b, 'x', 1);
  t.is(await nextEvent(events, 150), 'timeout');
  t.is(polls.size, 0, 'no handle kept for an fd libcurl may close without telling');

  // The same fd watched again gets a new handle.
  const again = new Subject<number>();
  const sub = polls.watch(a, new BehaviorSubject(CURL_POLL_IN)).subscribe(again);
  t.is(await nextEvent(again), CURL_CSELECT_IN);
  t.is(polls.size, 1);
  sub.unsubscribe();
  t.is(polls.size, 0);
});

// Found under load in reliability/faults.test.ts (HTTP/2 reset streams): a Curl watched the socket
// pair of libcurl's threaded resolver (an fd libcurl closes without telling), the fd number came
// back for a socket a test server in the same process accepted, and closing that Curl closed the
// handle kept for the old fd: uv_poll_stop takes the fd number out of the loop's epoll set, so the
// server's socket never heard of its requests again and every transfer waited for its timeout.
test("a handle for an fd libcurl closed behind our back does not unregister Node's socket that reuses its number", async (t) => {
  const polls = new SocketPolls();
  const [a, b] = pair();
  const sub = polls.watch(a, new BehaviorSubject(CURL_POLL_IN)).subscribe();
  sub.unsubscribe(); // CURL_POLL_REMOVE
  close(a); // libcurl closes it itself: no socketClosed
  close(b);
  const [c, d] = pair(); // the lowest free numbers: `a` comes back
  t.true(c === a || d === a, 'the fd number was reused');
  const [reused, peer] = c === a ? [c, d] : [d, c];
  const socket = new net.Socket({ fd: reused, readable: true, writable: true });
  t.teardown(() => {
    socket.destroy();
    close(peer);
  });
  const chunks: string[] = [];
  const received = (n: number) =>
    new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(`${chunks.join('')}: no more data`), 10_000);
      const check = () => {
        if (chunks.length < n) return;
        clearTimeout(timer);
        socket.off('data', check);
        resolve(chunks.join(''));
      };
      socket.on('data', check);
    });
  socket.on('data', (chunk) => chunks.push(String(chunk)));
  const first = received(1);
  write(peer, 'y', 1);
  t.is(await first, 'y', "Node's loop watches the socket");
  polls.closeAll(); // the Curl that watched `a` is closed
  const second = received(2);
  write(peer, 'z', 1);
  t.is(await second, 'yz', 'and still does after the Curl that watched the old fd is closed');
});

test('an fd number closed and reused for a new socket is watched correctly', async (t) => {
  const polls = new SocketPolls();
  const [a, b] = pair();
  const sub = polls.watch(a, new BehaviorSubject(CURL_POLL_IN)).subscribe();
  sub.unsubscribe();
  polls.socketClosed(a);
  close(a);
  close(b);
  const [c, d] = pair(); // the kernel hands out the lowest free numbers: `a` comes back
  t.teardown(() => {
    polls.closeAll();
    close(c);
    close(d);
  });
  t.true(c === a || d === a, 'the fd number was reused');
  const reused = c === a ? c : d;
  const peer = reused === c ? d : c;
  const events = new Subject<number>();
  polls.watch(reused, new BehaviorSubject(CURL_POLL_IN)).subscribe(events);
  write(peer, 'y', 1);
  t.is(await nextEvent(events), CURL_CSELECT_IN);
});

test('a socket libcurl opened through us stays armed for reading across REMOVE; a wake-up while idle is dropped', async (t) => {
  const { polls, a, b } = pollsWithPair(t);
  polls.socketOpened(a);
  const first = new Subject<number>();
  const interest = new BehaviorSubject(CURL_POLL_IN);
  polls.watch(a, interest).subscribe(first);
  interest.complete(); // CURL_POLL_REMOVE: the connection went back to libcurl's cache
  let late = 0;
  first.subscribe(() => late++);
  write(b, 'x', 1); // the idle connection becomes readable (as when a server closes it)
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(late, 0, 'nobody is told of readiness between REMOVE and the next interest');

  // The next transfer on the connection watches it again and hears of the pending byte.
  const second = new Subject<number>();
  const sub = polls.watch(a, new BehaviorSubject(CURL_POLL_IN)).subscribe(second);
  t.is(await nextEvent(second), CURL_CSELECT_IN);
  sub.unsubscribe();
  t.is(polls.size, 1);
  polls.socketClosed(a);
  t.is(polls.size, 0);
});

test('interest CURL_POLL_NONE (an idle connection) pauses the events of a watch that stays open', async (t) => {
  const { polls, a, b } = pollsWithPair(t);
  for (const owned of [true, false]) {
    if (owned) polls.socketOpened(a);
    else polls.disown(a);
    const interest = new BehaviorSubject(CURL_POLL_IN);
    const events = new Subject<number>();
    const sub = polls.watch(a, interest).subscribe(events);
    interest.next(CURL_POLL_NONE);
    write(b, 'x', 1);
    t.is(await nextEvent(events, 100), 'timeout', `no events while idle (owned: ${owned})`);
    interest.next(CURL_POLL_IN);
    t.is(await nextEvent(events), CURL_CSELECT_IN, `events again with an interest (owned: ${owned})`);
    read(a, new Uint8Array(1), 1);
    sub.unsubscribe();
  }
});
