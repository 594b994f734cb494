import koffi, { type LibraryHandle } from 'koffi';
import { CURL_GLOBAL_ALL } from './constants.js';

// Handles (CURL *, CURLM *, CURLSH *, curl_slist *) travel as intptr_t: plain Numbers on 64-bit
// platforms, cheaper than koffi's BigInt pointers and usable as Map keys.
export type Handle = number;

/** A pointer that koffi hands out as a BigInt (callback arguments, `void *` results). */
export type Pointer = bigint;

export const CurlVersionInfoStruct = koffi.struct('rxcurl_curl_version_info_data', {
  age: 'int',
  version: 'const char *',
  version_num: 'uint',
  host: 'const char *',
  features: 'int',
  ssl_version: 'const char *',
  ssl_version_num: 'long',
  libz_version: 'const char *',
  protocols: 'void *',
});

export const CurlBlobStruct = koffi.struct('rxcurl_curl_blob', {
  data: 'void *',
  len: 'size_t',
  flags: 'uint',
});

export const CurlEasyOptionStruct = koffi.struct('rxcurl_curl_easyoption', {
  name: 'const char *',
  id: 'int',
  type: 'int',
  flags: 'uint',
});

// One prototype per callback kind; each is registered once per process (src/native/callbacks.ts).
export const SocketCallback = koffi.proto(
  'int rxcurl_socket_cb(intptr_t easy, int fd, int what, intptr_t userp, intptr_t socketp)',
);
export const TimerCallback = koffi.proto(
  'int rxcurl_timer_cb(intptr_t multi, long timeoutMs, intptr_t userp)',
);
export const WriteCallback = koffi.proto(
  'size_t rxcurl_write_cb(void *ptr, size_t size, size_t nmemb, intptr_t userdata)',
);
export const ReadCallback = koffi.proto(
  'size_t rxcurl_read_cb(void *buffer, size_t size, size_t nitems, intptr_t userdata)',
);
export const XferInfoCallback = koffi.proto(
  'int rxcurl_xferinfo_cb(intptr_t clientp, int64_t dltotal, int64_t dlnow, int64_t ultotal, int64_t ulnow)',
);
export const CloseSocketCallback = koffi.proto('int rxcurl_closesocket_cb(intptr_t clientp, int fd)');
export const OpenSocketCallback = koffi.proto(
  'int rxcurl_opensocket_cb(intptr_t clientp, int purpose, void *address)',
);

type MimeText = (part: Handle, text: string) => number;

type SetOpt<T> = (handle: Handle, option: number, value: T) => number;

// Fixed-arity prototypes for a variadic function are only safe where integer and pointer
// variadic arguments travel like fixed ones (x86-64 everywhere, arm64 on Linux); elsewhere
// (Apple arm64 passes them on the stack) every call goes through koffi's variadic path.
const FIXED_VARIADICS = process.arch === 'x64' || (process.arch === 'arm64' && process.platform === 'linux');

function bindSetopt(lib: LibraryHandle, symbol: string) {
  if (FIXED_VARIADICS) {
    return {
      long: lib.func(symbol, 'int', ['intptr_t', 'int', 'long']) as SetOpt<number>,
      offT: lib.func(symbol, 'int', ['intptr_t', 'int', 'int64_t']) as SetOpt<number>,
      string: lib.func(symbol, 'int', ['intptr_t', 'int', 'const char *']) as SetOpt<string | null>,
      pointer: lib.func(symbol, 'int', ['intptr_t', 'int', 'void *']) as SetOpt<Pointer | number | null>,
      blob: lib.func(symbol, 'int', ['intptr_t', 'int', 'rxcurl_curl_blob *']) as SetOpt<object>,
    };
  }
  const variadic = lib.func(symbol, 'int', ['intptr_t', 'int', '...']);
  return {
    long: ((h, o, v) => variadic(h, o, 'long', v)) as SetOpt<number>,
    offT: ((h, o, v) => variadic(h, o, 'int64_t', v)) as SetOpt<number>,
    string: ((h, o, v) => variadic(h, o, 'const char *', v)) as SetOpt<string | null>,
    pointer: ((h, o, v) => variadic(h, o, 'void *', v)) as SetOpt<Pointer | number | null>,
    blob: ((h, o, v) => variadic(h, o, 'rxcurl_curl_blob *', v)) as SetOpt<object>,
  };
}

function bindGetinfo(lib: LibraryHandle) {
  if (FIXED_VARIADICS) {
    return {
      number: lib.func('curl_easy_getinfo', 'int', ['intptr_t', 'int', 'void *']) as (
        h: Handle,
        info: number,
        out: Uint32Array,
      ) => number,
      string: lib.func('curl_easy_getinfo', 'int', ['intptr_t', 'int', '_Out_ const char **']) as (
        h: Handle,
        info: number,
        out: (string | null)[],
      ) => number,
    };
  }
  const variadic = lib.func('curl_easy_getinfo', 'int', ['intptr_t', 'int', '...']);
  return {
    number: (h: Handle, info: number, out: Uint32Array) => variadic(h, info, 'void *', out) as number,
    string: (h: Handle, info: number, out: (string | null)[]) =>
      variadic(h, info, '_Out_ const char **', out) as number,
  };
}

function bind(lib: LibraryHandle) {
  return {
    global_init: lib.func('int curl_global_init(long flags)'),
    version_info: lib.func('void *curl_version_info(int age)') as (age: number) => Pointer,
    easy_strerror: lib.func('const char *curl_easy_strerror(int code)') as (code: number) => string,
    multi_strerror: lib.func('const char *curl_multi_strerror(int code)') as (code: number) => string,
    easy_option_by_name: lib.func('void *curl_easy_option_by_name(const char *name)') as (
      name: string,
    ) => Pointer | null,

    easy_init: lib.func('intptr_t curl_easy_init()') as () => Handle,
    easy_cleanup: lib.func('void curl_easy_cleanup(intptr_t easy)') as (h: Handle) => void,
    easy_reset: lib.func('void curl_easy_reset(intptr_t easy)') as (h: Handle) => void,
    easy_perform: lib.func('int curl_easy_perform(intptr_t easy)') as (h: Handle) => number,
    easy_pause: lib.func('int curl_easy_pause(intptr_t easy, int bitmask)') as (
      h: Handle,
      mask: number,
    ) => number,
    easy_setopt: bindSetopt(lib, 'curl_easy_setopt'),
    easy_getinfo: bindGetinfo(lib),
    easy_nextheader: lib.func(
      'void *curl_easy_nextheader(intptr_t easy, uint origin, int request, void *prev)',
    ) as (h: Handle, origin: number, request: number, prev: Pointer | null) => Pointer | null,

    slist_append: lib.func('intptr_t curl_slist_append(intptr_t list, const char *line)') as (
      list: Handle,
      line: string,
    ) => Handle,
    slist_free_all: lib.func('void curl_slist_free_all(intptr_t list)') as (list: Handle) => void,

    // Multipart forms (CURLOPT_MIMEPOST). A curl_mime and its parts travel as intptr_t, as handles do.
    mime_init: lib.func('intptr_t curl_mime_init(intptr_t easy)') as (easy: Handle) => Handle,
    mime_free: lib.func('void curl_mime_free(intptr_t mime)') as (mime: Handle) => void,
    mime_addpart: lib.func('intptr_t curl_mime_addpart(intptr_t mime)') as (mime: Handle) => Handle,
    mime_name: lib.func('int curl_mime_name(intptr_t part, const char *name)') as MimeText,
    mime_filename: lib.func('int curl_mime_filename(intptr_t part, const char *filename)') as MimeText,
    mime_type: lib.func('int curl_mime_type(intptr_t part, const char *mimetype)') as MimeText,
    mime_filedata: lib.func('int curl_mime_filedata(intptr_t part, const char *filename)') as MimeText,
    mime_data: lib.func('int curl_mime_data(intptr_t part, const uint8_t *data, size_t datasize)') as (
      part: Handle,
      data: Uint8Array,
      size: number,
    ) => number,
    mime_data_cb: lib.func(
      'int curl_mime_data_cb(intptr_t part, int64_t datasize, void *readfunc, void *seekfunc, void *freefunc, intptr_t arg)',
    ) as (part: Handle, size: number, read: Pointer, seek: null, free: null, arg: number) => number,

    share_init: lib.func('intptr_t curl_share_init()') as () => Handle,
    share_cleanup: lib.func('int curl_share_cleanup(intptr_t share)') as (share: Handle) => number,
    share_setopt_long: lib.func('curl_share_setopt', 'int', ['intptr_t', 'int', '...']) as (
      share: Handle,
      option: number,
      type: 'int',
      value: number,
    ) => number,

    multi_init: lib.func('intptr_t curl_multi_init()') as () => Handle,
    multi_cleanup: lib.func('int curl_multi_cleanup(intptr_t multi)') as (m: Handle) => number,
    multi_setopt: bindSetopt(lib, 'curl_multi_setopt'),
    multi_add_handle: lib.func('int curl_multi_add_handle(intptr_t multi, intptr_t easy)') as (
      m: Handle,
      e: Handle,
    ) => number,
    multi_remove_handle: lib.func('int curl_multi_remove_handle(intptr_t multi, intptr_t easy)') as (
      m: Handle,
      e: Handle,
    ) => number,
    multi_socket_action: lib.func(
      'int curl_multi_socket_action(intptr_t multi, int fd, int evBitmask, _Out_ int *running)',
    ) as (m: Handle, fd: number, ev: number, running: Int32Array) => number,
    multi_socket_all: lib.func('int curl_multi_socket_all(intptr_t multi, _Out_ int *running)') as (
      m: Handle,
      running: Int32Array,
    ) => number,
    multi_info_read: lib.func('void *curl_multi_info_read(intptr_t multi, _Out_ int *left)') as (
      m: Handle,
      left: Int32Array,
    ) => Pointer | null,
  };
}

export type Libcurl = ReturnType<typeof bind> & { readonly path: string };

/** The names tried, in order, when neither the `libcurl` option nor RXCURL_LIBCURL names a library. */
export const LIBCURL_NAMES: readonly string[] =
  process.platform === 'win32'
    ? ['libcurl.dll', 'libcurl-x64.dll', 'libcurl-4.dll']
    : process.platform === 'darwin'
      ? ['libcurl.4.dylib', 'libcurl.dylib', '/opt/homebrew/opt/curl/lib/libcurl.4.dylib']
      : ['libcurl.so.4', 'libcurl.so', 'libcurl.4.dylib', 'libcurl.dylib', 'libcurl.dll', 'libcurl-x64.dll'];

const loaded = new Map<string, Libcurl>();

/**
 * Loads libcurl once per path and calls curl_global_init once for it.
 * Order: the explicit path, else env RXCURL_LIBCURL, else the platform's usual names.
 */
export function loadLibcurl(path?: string): Libcurl {
  const candidates = path
    ? [path]
    : process.env.RXCURL_LIBCURL
      ? [process.env.RXCURL_LIBCURL]
      : LIBCURL_NAMES;
  const key = candidates.join('\n');
  const cached = loaded.get(key);
  if (cached) return cached;
  const failures: string[] = [];
  for (const name of candidates) {
    let lib: LibraryHandle;
    try {
      lib = koffi.load(name);
    } catch (err) {
      failures.push(`  ${name}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const curl = Object.assign(bind(lib), { path: name });
    const rc = curl.global_init(CURL_GLOBAL_ALL);
    if (rc !== 0) throw new Error(`curl_global_init failed with code ${rc} for ${name}`);
    loaded.set(key, curl);
    return curl;
  }
  throw new Error(
    `rxcurl could not load libcurl. Tried:\n${failures.join('\n')}\n` +
      'Install libcurl (Debian/Ubuntu: apt-get install libcurl4; Fedora: dnf install libcurl; ' +
      'macOS: brew install curl), or pass its path as the `libcurl` option or in RXCURL_LIBCURL.',
  );
}
