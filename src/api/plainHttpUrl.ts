const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// DNS labels whose last one starts with a letter, so the host is no IPv4 number, and none is punycode
// (whose decoding can fail); or a dotted quad.
const HOST = `(?:(?:(?!xn--)[a-z0-9][a-z0-9-]*\\.)*(?!xn--)[a-z][a-z0-9-]*|(?:${OCTET}\\.){3}${OCTET})`;
// A port up to 65535; then a path, query or fragment, which never fail to parse.
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|\\d{1,4})';
const PLAIN_HTTP_URL = new RegExp(`^https?://${HOST}(?::${PORT})?(?:[/?#]|$)`, 'i');

/**
 * Whether `url` is an http(s) URL that every WHATWG parser accepts, told without parsing it:
 * URL.canParse costs ~1.8 µs, on every request given as an object. False says nothing (userinfo, an
 * IPv6 host, a port with a leading zero...): ask URL.canParse then.
 */
export function isPlainHttpUrl(url: string): boolean {
  return PLAIN_HTTP_URL.test(url);
}
