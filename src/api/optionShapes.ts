import { isIP } from 'node:net';

/** A port in an entry: 1 to 5 digits, at most 65535. */
const PORT = /^\d{1,5}$/;
/** A RESOLVE entry: prefix, host (no colon: libcurl cuts it at the first), port, addresses. */
const RESOLVE = /^([+-]?)([^:]{1,255}):([^:]*)(?::(.*))?$/;
/** A CONNECT_TO host: empty (any), a name, or an IPv6 address in brackets with an optional zone. */
const CONNECT_TO_HOST = String.raw`(?:\[[0-9A-Fa-f:.]+(?:%25[\w.~-]+)?\]|[^:[\]]*)`;
const CONNECT_TO = new RegExp(String.raw`^${CONNECT_TO_HOST}:(\d{0,5}):${CONNECT_TO_HOST}:(\d{0,5})$`);
/** One pin: the base64 of a SHA-256 digest (32 bytes). */
const SHA256_PIN = /^sha256\/\/[A-Za-z0-9+/]{43}=$/;

function badPort(port: string): boolean {
  return !PORT.test(port) || Number(port) > 65535;
}

/**
 * The shapes libcurl parses in the strings of some options, checked up front so that a mistake is
 * INVALID_INPUT naming the field rather than a transfer that fails later, or quietly matches
 * nothing. Each returns what is wrong, or undefined when the value is well formed.
 *
 * @example
 * ```ts
 * optionShapes.resolve('example.com:443:127.0.0.1'); // undefined: well formed
 * optionShapes.resolve('example.com:127.0.0.1');     // 'must be …'
 * ```
 */
export const optionShapes = {
  /** 'host:port:address[,address…]', '+host:port:address…' (an entry that expires) or '-host:port' (removes one). */
  resolve(entry: string): string | undefined {
    const shape = "must be 'host:port:address[,address…]', '+host:port:address…' or '-host:port'";
    const match = RESOLVE.exec(entry);
    if (!match || badPort(match[3])) return shape;
    const [, prefix, , , addresses] = match;
    if (prefix === '-') return addresses === undefined ? undefined : shape;
    const given = addresses?.split(',').filter((address) => address !== '') ?? [];
    if (given.length === 0) return shape;
    for (const address of given) {
      if (isIP(address.replace(/^\[(.*)\]$/, '$1')) === 0)
        return `${shape}: ${JSON.stringify(address)} is not an IP address`;
    }
    return undefined;
  },

  /** 'host:port:connect-host:connect-port', each part empty for "any" (or "the same"). */
  connectTo(entry: string): string | undefined {
    const match = CONNECT_TO.exec(entry);
    if (match && !match.slice(1).some((port) => port !== '' && badPort(port))) return undefined;
    return "must be 'host:port:connect-host:connect-port' (a part may be empty; IPv6 in brackets)";
  },

  /** 'sha256//<base64>[;sha256//<base64>…]', or else the path of a PEM or DER public key file. */
  pinnedPublicKey(value: string): string | undefined {
    if (value === '') return 'must not be empty';
    if (!value.startsWith('sha256//')) return undefined;
    if (value.split(';').every((pin) => SHA256_PIN.test(pin))) return undefined;
    return "must be 'sha256//<base64 of 32 bytes>' pins joined by ';', or a file path";
  },
};
