import type { NativeBinding } from '../api/nativeBinding.js';
import { loadLibcurl } from './libcurl.js';
import { NativeDriver } from './NativeDriver.js';
import { libcurlVersion } from './version.js';

/** libcurl through koffi: what rxcurl's main entry wires into Curl. */
export const libcurlBinding: NativeBinding = {
  createDriver: (options) => new NativeDriver(options),
  version: () => libcurlVersion(loadLibcurl()),
};
