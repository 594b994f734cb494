import type { MultiDriver } from '../core/MultiDriver.js';
import type { LibcurlVersion } from '../native/version.js';
import type { CurlOptions } from './CurlOptions.js';

/** What a Curl made without a driver needs of libcurl. */
export interface NativeBinding {
  /** The driver of real transfers. */
  createDriver(options: CurlOptions): MultiDriver;
  /** The loaded libcurl's version, TLS library, protocols and features. */
  version(): LibcurlVersion;
}

let wired: NativeBinding | undefined;

/**
 * The seam between the API and libcurl: rxcurl's main entry wires the native binding in; the
 * testing kit never does, so `rxcurl/testing` alone never loads koffi or libcurl.
 */
export function wireNativeBinding(binding: NativeBinding): void {
  wired = binding;
}

export function nativeBinding(): NativeBinding {
  if (!wired) {
    throw new Error(
      "rxcurl: no libcurl binding is wired in: import Curl from 'rxcurl' (rxcurl/testing runs on its scripted driver alone)",
    );
  }
  return wired;
}
