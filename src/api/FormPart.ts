import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';

/**
 * One part of a multipart/form-data request (`form`), sent through libcurl's mime API: a text
 * field, a file libcurl reads from a path, or data — bytes, or a Readable or an Observable streamed
 * as libcurl asks for it. A streamed part of unknown `size` makes the request body chunked.
 *
 * @example
 * ```ts
 * const form: FormPart[] = [
 *   { name: 'title', value: 'holiday' },
 *   { name: 'photo', file: '/tmp/beach.jpg', contentType: 'image/jpeg' },
 *   { name: 'log', data: createReadStream('app.log'), filename: 'app.log', contentType: 'text/plain' },
 * ];
 * curl.request({ url: 'https://example.com/upload', form });
 * ```
 */
export type FormPart =
  | {
      /** The field name. */
      name: string;
      /** The field's text. */
      value: string;
    }
  | {
      /** The field name. */
      name: string;
      /** A path: libcurl reads the file as it sends it; its base name is the default filename. */
      file: string;
      /** The filename the server sees. */
      filename?: string;
      /** The part's Content-Type; default libcurl's guess from the extension. */
      contentType?: string;
    }
  | {
      /** The field name. */
      name: string;
      /** The part's content: bytes, or a stream read as libcurl asks (a Readable can be sent once). */
      data: Uint8Array | Readable | Observable<Uint8Array>;
      /** The filename the server sees; without one the part is a plain field. */
      filename?: string;
      /** The part's Content-Type; default application/octet-stream when there is a filename. */
      contentType?: string;
      /** The length of streamed data, when known; without it the request body is chunked. */
      size?: number;
    };
