// The diagnostics_channel channels against real transfers on 127.0.0.1. The channels are
// process-wide, so the tests of this file run one at a time: what a recorder sees is its test's.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { lastValueFrom, take, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  CurlError,
  TRANSFER_CHANNELS,
  type TransferDoneMessage,
  type TransferErrorMessage,
  type TransferResponseMessage,
  type TransferResult,
  type TransferStartMessage,
} from '../../src/index.js';
import { createTestCurl } from '../../src/testing/index.js';
import { freePort, useCurl, useServer, useTempDir } from '../helpers/servers.js';

type ChannelName = keyof typeof TRANSFER_CHANNELS;
interface Published {
  channel: ChannelName;
  /** The transfer's id, from whichever field the message carries it in. */
  id: number;
  message: unknown;
}

/** Subscribes to every channel until the test ends; returns what was published, in order. */
function record(t: ExecutionContext): Published[] {
  const published: Published[] = [];
  for (const channel of Object.keys(TRANSFER_CHANNELS) as ChannelName[]) {
    const listener = (message: unknown) => {
      const id =
        channel === 'done' ? (message as TransferDoneMessage).result.id : (message as { id: number }).id;
      published.push({ channel, id, message });
    };
    subscribe(TRANSFER_CHANNELS[channel], listener);
    t.teardown(() => {
      unsubscribe(TRANSFER_CHANNELS[channel], listener);
    });
  }
  return published;
}

const channelsOf = (published: Published[]) => published.map((p) => p.channel);

/** Answers 201 with a body after a custom header; /hold sends its head and holds the body back. */
function useAnswering(t: ExecutionContext) {
  return useServer(t, (req, res) => {
    if (req.url === '/hold') {
      res.writeHead(200, { 'content-length': '10' });
      res.write('part');
      return;
    }
    res.writeHead(201, { 'x-answer': 'yes' });
    res.end(`answer ${req.url}`);
  });
}

test.serial('start, response, done in order, with one id, the real status and HTTP version', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  const published = record(t);
  const response = await lastValueFrom(curl.request({ url: `${server.url}/a`, method: 'POST', body: 'x' }));
  t.deepEqual(channelsOf(published), ['start', 'response', 'done']);
  const { id } = response.result;
  t.true(published.every((p) => p.id === id));
  t.deepEqual(published[0].message, {
    id,
    url: `${server.url}/a`,
    method: 'POST',
  } satisfies TransferStartMessage);
  t.deepEqual(published[1].message, {
    id,
    status: 201,
    httpVersion: '1.1',
  } satisfies TransferResponseMessage);
  t.is((published[2].message as TransferDoneMessage).result, response.result, 'the result the request got');
});

test.serial('every front end publishes: transfer(), request(), download(), requestAll()', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  const dir = useTempDir(t);
  const published = record(t);
  await lastValueFrom(curl.transfer(`${server.url}/transfer`));
  await lastValueFrom(curl.request(`${server.url}/request`));
  await lastValueFrom(curl.download(`${server.url}/download`, join(dir, 'file')));
  await lastValueFrom(curl.requestAll([`${server.url}/all1`, `${server.url}/all2`]).pipe(toArray()));
  const starts = published.filter((p) => p.channel === 'start');
  t.deepEqual(
    starts.map((p) => (p.message as TransferStartMessage).url),
    ['transfer', 'request', 'download', 'all1', 'all2'].map((path) => `${server.url}/${path}`),
  );
  for (const { id } of starts) {
    const ofTransfer = published.filter((p) => p.id === id);
    t.deepEqual(channelsOf(ofTransfer), ['start', 'response', 'done'], `transfer ${id}`);
  }
  t.is(new Set(starts.map((p) => p.id)).size, 5, 'five ids');
});

test.serial('a refused connection: start, then error with the CurlError', async (t) => {
  const url = `http://127.0.0.1:${await freePort()}/`;
  const curl = useCurl(t);
  const published = record(t);
  const error = await t.throwsAsync(lastValueFrom(curl.request(url)), { instanceOf: CurlError });
  t.deepEqual(channelsOf(published), ['start', 'error']);
  const { id } = published[0].message as TransferStartMessage;
  t.deepEqual(published[1].message, { id, url, error } satisfies TransferErrorMessage);
  t.is(error?.code, 7, 'CURLE_COULDNT_CONNECT');
  t.is(error?.result?.connects, 0);
  t.false(error?.result?.connectionReused);
});

test.serial('an abort by signal after the response head: start, response, error', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  const published = record(t);
  const controller = new AbortController();
  // Aborted as the response event arrives, while the server holds the rest of the body back.
  const events = curl
    .transfer({ url: `${server.url}/hold`, signal: controller.signal })
    .pipe(tap((event) => event.type === 'response' && controller.abort()));
  const error = await t.throwsAsync(lastValueFrom(events), { instanceOf: CurlError });
  t.deepEqual(channelsOf(published), ['start', 'response', 'error']);
  t.is((published[2].message as TransferErrorMessage).error, error);
});

test.serial('a cancellation by unsubscribe is no error: start, response, cancel', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  const published = record(t);
  const url = `${server.url}/hold`;
  // take(1) unsubscribes after the response event, while the body is held back.
  const [event] = await lastValueFrom(curl.transfer(url).pipe(take(1), toArray()));
  t.is(event.type, 'response');
  t.deepEqual(channelsOf(published), ['start', 'response', 'cancel']);
  const { id } = published[0].message as TransferStartMessage;
  t.deepEqual(published[2].message, { id, url });
});

test.serial('after unsubscribe nothing is published, and nothing before a subscriber', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  let count = 0;
  const counter = () => {
    count++;
  };
  const names = Object.values(TRANSFER_CHANNELS);
  await lastValueFrom(curl.request(`${server.url}/before`));
  for (const name of names) subscribe(name, counter);
  await lastValueFrom(curl.request(`${server.url}/during`));
  for (const name of names) unsubscribe(name, counter);
  t.is(count, 3, 'start, response, done of the one transfer made while subscribed');
  await lastValueFrom(curl.request(`${server.url}/after`));
  await lastValueFrom(curl.requestAll([`${server.url}/after1`, `${server.url}/after2`]).pipe(toArray()));
  t.is(count, 3);
});

test.serial('connectionReused and connects: a new connection, then the kept one', async (t) => {
  const server = await useAnswering(t);
  const curl = useCurl(t);
  const first = (await lastValueFrom(curl.request(`${server.url}/1`))).result;
  const second = (await lastValueFrom(curl.request(`${server.url}/2`))).result;
  t.like(first, { connects: 1, connectionReused: false });
  t.like(second, { connects: 0, connectionReused: true });
  t.is(new Set(server.requests.map((req) => req.socket.remotePort)).size, 1, 'one connection on the server');
});

test.serial('a test Curl publishes too, so instrumentation can be marble-tested', (t) => {
  const published = record(t);
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  const results: TransferResult[] = [];
  const errors: unknown[] = [];
  scheduler.run(({ cold }) => {
    const curl = createTestCurl({ scheduler });
    curl.route('GET http://api.test/a', cold('5ms r', { r: { status: 204 } }));
    curl.request('http://api.test/a').subscribe((response) => results.push(response.result));
    curl.request('http://api.test/nowhere').subscribe({ error: (err) => errors.push(err) });
  });
  const [result] = results;
  const [error] = errors;
  t.like(result, { status: 204, connects: 1, connectionReused: false });
  t.true(error instanceof CurlError);
  const [a, nowhere] = published.filter((p) => p.channel === 'start').map((p) => p.id);
  const ofA = published.filter((p) => p.id === a);
  t.deepEqual(channelsOf(ofA), ['start', 'response', 'done']);
  t.deepEqual(ofA[1].message, { id: a, status: 204, httpVersion: '1.1' });
  t.is((ofA[2].message as TransferDoneMessage).result, result);
  const ofNowhere = published.filter((p) => p.id === nowhere);
  t.deepEqual(channelsOf(ofNowhere), ['start', 'error']);
  t.is((ofNowhere[1].message as TransferErrorMessage).error, error);
});
