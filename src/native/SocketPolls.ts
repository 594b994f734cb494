import koffi, { type node } from 'koffi';
import { Observable } from 'rxjs';
import { FdTable } from '../core/FdTable.js';
import {
  CURL_CSELECT_ERR,
  CURL_CSELECT_IN,
  CURL_CSELECT_OUT,
  CURL_POLL_IN,
  CURL_POLL_OUT,
} from '../core/socketEvents.js';

interface PollEvents {
  readable: boolean;
  writable: boolean;
}

/** One fd's libuv poll handle, and who its events go to. */
interface Poll {
  readonly handle: node.PollHandle;
  readonly callback: (ev: node.PollEvents) => void;
  /** The CURL_POLL_* interest the handle runs with; 0 when stopped. */
  armed: number;
  /** The current watcher; undefined between libcurl's CURL_POLL_REMOVE and its next interest. */
  emit: ((events: number) => void) | undefined;
}

/**
 * Readiness of sockets, from libuv poll handles on the calling thread's loop (koffi.node.poll).
 *
 * One poll handle per fd, kept until the socket is closed (`socketClosed`, from
 * CURLOPT_CLOSESOCKETFUNCTION) or everything is (`closeAll`). Between two transfers a connection
 * sits in libcurl's cache unwatched (interest CURL_POLL_NONE, or a completed watch); the next
 * transfer on it usually wants to read again. Stopping and restarting a uv_poll costs two or three
 * epoll_ctl calls, so for a socket libcurl opened through us (`socketOpened`, whose close we are
 * told of first) a read interest is left armed while idle: the next transfer finds it armed, and
 * an event that arrives in between (the server closed the idle connection) stops it. Any other fd
 * (libcurl's resolver wakes it with a socket pair it closes without telling) gets its handle closed
 * as soon as nobody watches it, while the fd is still libcurl's: stopping or closing a uv_poll takes
 * its fd *number* out of the loop's epoll set, so a handle kept for an fd closed behind our back
 * would, when closed later (closeAll, or its finalizer), unregister whatever socket of the process
 * got that number since: a socket of Node's own, which then never hears of its data again.
 *
 * koffi's poll callback receives `(status, events)` although its typings declare one argument.
 */
export class SocketPolls {
  private readonly polls = new FdTable<Poll>();
  /** Sockets libcurl opened through CURLOPT_OPENSOCKETFUNCTION: their close reaches socketClosed. */
  private readonly owned = new FdTable<true>();

  /**
   * Emits CURL_CSELECT_* bitmasks for `fd` while watching the CURL_POLL_* interest `interest` emits;
   * CURL_POLL_NONE (an idle connection) watches nothing for now.
   */
  watch(fd: number, interest: Observable<number>): Observable<number> {
    return new Observable<number>((subscriber) => {
      let poll: Poll | undefined;
      const emit = (events: number) => subscriber.next(events);
      const watching = interest.subscribe({
        next: (what) => {
          if ((what & (CURL_POLL_IN | CURL_POLL_OUT)) === 0) {
            if (poll?.emit === emit) this.idle(fd, poll);
            return;
          }
          try {
            // Not kept across an idle spell: the handle of an fd we do not own is closed then.
            poll = this.polls.get(fd) ?? this.create(fd, what);
            poll.emit = emit;
            this.arm(poll, what);
          } catch {
            // libuv refused the fd: let libcurl try it and fail the transfer itself.
            queueMicrotask(() => subscriber.next(CURL_CSELECT_ERR));
          }
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        watching.unsubscribe();
        if (poll?.emit === emit && this.polls.get(fd) === poll) this.idle(fd, poll);
      };
    });
  }

  /** libcurl opened `fd` through us: it will be closed through socketClosed. */
  socketOpened(fd: number): void {
    this.owned.set(fd, true);
  }

  owns(fd: number): boolean {
    return this.owned.has(fd);
  }

  /** `fd` is about to be closed: from now on it is stopped as soon as nobody watches it. */
  disown(fd: number): void {
    this.owned.delete(fd);
  }

  /** The socket is about to be closed: close its poll handle, which takes the fd out of epoll. */
  socketClosed(fd: number): void {
    this.owned.delete(fd);
    const poll = this.polls.get(fd);
    if (!poll) return;
    this.polls.delete(fd);
    poll.emit = undefined;
    poll.handle.close();
  }

  get size(): number {
    return this.polls.size;
  }

  closeAll(): void {
    for (const poll of this.polls.clear()) poll.handle.close();
    this.owned.clear();
  }

  private create(fd: number, what: number): Poll {
    const onPoll = (status: number, events: PollEvents) => {
      const { emit } = poll;
      if (!emit) {
        this.arm(poll, 0); // an idle connection woke up: stop until libcurl wants it again
        return;
      }
      if (status < 0) {
        // A poll error: let libcurl try the socket and learn what went wrong.
        emit(CURL_CSELECT_ERR | (poll.armed & (CURL_POLL_IN | CURL_POLL_OUT)));
        return;
      }
      emit((events.readable ? CURL_CSELECT_IN : 0) | (events.writable ? CURL_CSELECT_OUT : 0));
    };
    const armed = what & (CURL_POLL_IN | CURL_POLL_OUT); // watch() creates a poll only for an interest
    const callback = onPoll as unknown as (ev: node.PollEvents) => void;
    const handle = koffi.node.poll(fd, pollOptions(armed), callback);
    const poll: Poll = { handle, callback, armed, emit: undefined };
    this.polls.set(fd, poll);
    return poll;
  }

  /**
   * Nobody wants events of `fd` for now: a read interest on our own socket stays armed, the handle of
   * any other fd is closed (see above).
   */
  private idle(fd: number, poll: Poll): void {
    poll.emit = undefined;
    if (!this.owned.has(fd)) {
      this.polls.delete(fd);
      poll.handle.close();
    } else if (poll.armed !== CURL_POLL_IN) this.arm(poll, 0);
  }

  /** Runs the handle with interest `what` (0 stops it); nothing to do when it already does. */
  private arm(poll: Poll, what: number): void {
    const interest = what & (CURL_POLL_IN | CURL_POLL_OUT);
    if (interest === poll.armed) return;
    poll.armed = interest;
    if (interest === 0) poll.handle.stop();
    else poll.handle.start(pollOptions(interest), poll.callback);
  }
}

const READABLE = { readable: true, writable: false };
const WRITABLE = { readable: false, writable: true };
const BOTH = { readable: true, writable: true };

function pollOptions(what: number): { readable: boolean; writable: boolean } {
  const readable = (what & CURL_POLL_IN) !== 0;
  const writable = (what & CURL_POLL_OUT) !== 0;
  return readable && writable ? BOTH : readable ? READABLE : WRITABLE;
}
