import koffi from 'koffi';
import { httpVersionName } from '../core/httpVersions.js';
import type { DriverTransfer } from '../core/MultiDriver.js';
import type { Headers, ResponseHead, TransferResult } from '../core/types.js';
import { curlCodeName } from '../errors/curlCodes.js';
import { CURLH_HEADER, CURLINFO } from './constants.js';
import type { EasySlot } from './EasySlot.js';
import type { Handle, Libcurl } from './libcurl.js';

const POINTER_SIZE = koffi.sizeof('void *');

// Out-parameters of curl_easy_getinfo, allocated once: the main thread reads one info at a time.
const number = new Uint32Array(2);
const numberHigh = new Int32Array(number.buffer);
const text: (string | null)[] = [null];

/** A long or curl_off_t info, read without BigInt: low word unsigned, high word signed. */
function infoNumber(lib: Libcurl, easy: Handle, id: number): number {
  number[0] = 0;
  number[1] = 0;
  lib.easy_getinfo.number(easy, id, number);
  return number[0] + numberHigh[1] * 4294967296;
}

function infoString(lib: Libcurl, easy: Handle, id: number): string {
  text[0] = null;
  lib.easy_getinfo.string(easy, id, text);
  return text[0] ?? '';
}

/** The final response head, read after the fact with curl_easy_nextheader: no callback per header line. */
export function readHead(lib: Libcurl, easy: Handle): ResponseHead {
  const headers: Headers = {};
  for (
    let h = lib.easy_nextheader(easy, CURLH_HEADER, -1, null);
    h;
    h = lib.easy_nextheader(easy, CURLH_HEADER, -1, h)
  ) {
    // struct curl_header starts with `char *name; char *value;`.
    const name = koffi.decode(h, 0, 'const char *') as string;
    const value = koffi.decode(h, POINTER_SIZE, 'const char *') as string;
    // libcurl 7.88's curl_easy_header leaves the CR of an empty value ("X-Empty: \r\n" gives "\r");
    // it trims trailing whitespace of every other value itself.
    addHeader(headers, name.toLowerCase(), value === '\r' ? '' : value);
  }
  return {
    status: infoNumber(lib, easy, CURLINFO.RESPONSE_CODE),
    httpVersion: httpVersionName(infoNumber(lib, easy, CURLINFO.HTTP_VERSION)),
    headers,
    url: infoString(lib, easy, CURLINFO.EFFECTIVE_URL),
  };
}

/** The TransferResult of `transfer`, finished with `code`, from libcurl's infos on its easy handle. */
export function readResult(
  lib: Libcurl,
  slot: EasySlot,
  transfer: DriverTransfer,
  code: number,
): TransferResult {
  const { easy, head } = slot;
  const info = (id: number) => infoNumber(lib, easy, id);
  const millis = (id: number) => infoNumber(lib, easy, id) / 1000;
  const { request } = transfer;
  // FTP's reply when the data began (150) is not its last (226): read that one again.
  const status = head && head.httpVersion !== '' ? head.status : info(CURLINFO.RESPONSE_CODE);
  const connects = info(CURLINFO.NUM_CONNECTS);
  const result: TransferResult = {
    id: transfer.id,
    url: request.url,
    effectiveUrl: head ? head.url : infoString(lib, easy, CURLINFO.EFFECTIVE_URL),
    method: request.method,
    ok: code === 0,
    code,
    codeName: curlCodeName(code),
    message: code === 0 ? '' : slot.errorText() || lib.easy_strerror(code),
    status,
    httpVersion: head ? head.httpVersion : httpVersionName(info(CURLINFO.HTTP_VERSION)),
    downloadedBytes: info(CURLINFO.SIZE_DOWNLOAD_T),
    // libcurl's count of a streamed upload includes chunked framing: count what was handed to it.
    uploadedBytes: slot.upload ? slot.sent : info(CURLINFO.SIZE_UPLOAD_T),
    redirects: info(CURLINFO.REDIRECT_COUNT),
    primaryIp: infoString(lib, easy, CURLINFO.PRIMARY_IP),
    primaryPort: info(CURLINFO.PRIMARY_PORT),
    connects,
    // No new connection, yet an answer: it came over one an earlier transfer had made.
    connectionReused: connects === 0 && status > 0,
    timings: {
      dnsMs: millis(CURLINFO.NAMELOOKUP_TIME_T),
      connectMs: millis(CURLINFO.CONNECT_TIME_T),
      tlsMs: millis(CURLINFO.APPCONNECT_TIME_T),
      firstByteMs: millis(CURLINFO.STARTTRANSFER_TIME_T),
      totalMs: millis(CURLINFO.TOTAL_TIME_T),
      redirectMs: millis(CURLINFO.REDIRECT_TIME_T),
    },
  };
  // Only download() asks for the file's time (CURLOPT_FILETIME) or sets a time condition.
  if (request.sink) {
    const fileTime = info(CURLINFO.FILETIME_T);
    if (fileTime >= 0) result.fileTime = fileTime * 1000;
    result.conditionUnmet = info(CURLINFO.CONDITION_UNMET) === 1;
  }
  return result;
}

function addHeader(headers: Headers, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    if (name === '__proto__')
      Object.defineProperty(headers, name, { value, enumerable: true, writable: true });
    else headers[name] = value;
  } else if (typeof existing === 'string') headers[name] = [existing, value];
  else existing.push(value);
}
