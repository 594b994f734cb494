/**
 * node-libcurl 4 (a C++ addon over libcurl's multi_socket interface), the fastest way it offers:
 * one `Multi`, `Easy` handles reused per slot and set up once (100 KiB receive buffer, a write
 * function that counts each chunk, or writes it to the file for the download workload; HTTP/2 with
 * PIPEWAIT and no certificate checks), `Multi.onMessage` to learn that a transfer ended. It is built
 * from source by the bench (bench/nodeLibcurl.ts) into bench/peers/node-libcurl, outside the
 * project's dependencies, and loaded from there; its types are not in the project's reach, so the
 * few calls made are declared here.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { httpVersionOf, RECEIVE_BUFFER_BYTES, runNodeClient, SlotPool } from '../job.js';

interface Easy {
  setOpt(option: string, value: string | number | boolean | ((data: Buffer) => number)): number;
  getInfo(info: 'RESPONSE_CODE' | 'HTTP_VERSION'): { code: number; data: number };
  close(): void;
}

interface Multi {
  setOpt(option: 'PIPELINING', value: number): number;
  addHandle(easy: Easy): number;
  removeHandle(easy: Easy): number;
  onMessage(callback: ((error: Error | null, easy: Easy, code: number) => void) | null): Multi;
  close(): void;
}

// Compiled to bench/.build/clients/node-libcurl.js: bench/peers is two folders up.
const require = createRequire(new URL('../../peers/node-libcurl/package.json', import.meta.url));
const { Easy, Multi } = require('node-libcurl') as { Easy: new () => Easy; Multi: new () => Multi };

const CURLPIPE_MULTIPLEX = 2;
const CURL_HTTP_VERSION_2TLS = 4;

await runNodeClient((job) => {
  const multi = new Multi();
  multi.setOpt('PIPELINING', CURLPIPE_MULTIPLEX);
  const version = httpVersionOf(job).curl;

  multi.onMessage((error, easy, code) => {
    const ok =
      error === null &&
      code === 0 &&
      easy.getInfo('RESPONSE_CODE').data === 200 &&
      easy.getInfo('HTTP_VERSION').data === version;
    multi.removeHandle(easy);
    pool.finished(easy, ok);
  });

  const write = (data: Buffer): number => {
    const { tally, file } = pool;
    if (tally === undefined) return 0;
    tally.bytes += data.length;
    if (file !== undefined) writeSync(file, data);
    return data.length;
  };

  const create = (): Easy => {
    const easy = new Easy();
    easy.setOpt('URL', job.url);
    easy.setOpt('BUFFERSIZE', RECEIVE_BUFFER_BYTES);
    easy.setOpt('WRITEFUNCTION', write);
    if (job.h2) {
      easy.setOpt('HTTP_VERSION', CURL_HTTP_VERSION_2TLS);
      easy.setOpt('SSL_VERIFYPEER', false);
      easy.setOpt('SSL_VERIFYHOST', 0);
      easy.setOpt('PIPEWAIT', true);
    }
    return easy;
  };

  const pool = new SlotPool(job, create, (easy) => multi.addHandle(easy));

  return {
    run: (count) => pool.run(count),
    close: async () => {
      multi.onMessage(null);
      for (const easy of pool.slots) easy.close();
      multi.close();
    },
  };
});
