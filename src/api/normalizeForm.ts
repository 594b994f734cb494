import { Readable } from 'node:stream';
import { isObservable, type Observable } from 'rxjs';
import type { NormalizedFormPart } from '../core/NormalizedRequest.js';
import type { CurlRequest } from './CurlRequest.js';
import { type Bad, describe, optionalCount, optionalText } from './normalizeRequest.js';

const PART_FIELDS: Record<string, readonly string[]> = {
  value: ['name', 'value'],
  file: ['name', 'file', 'filename', 'contentType'],
  data: ['name', 'data', 'filename', 'contentType', 'size'],
};

/**
 * Validates `form`: every part named, with exactly one of value, file and data, each field of the
 * right type and free of CR, LF and NUL where it ends up in a part's header. Errors name the part
 * (`form[2].name`). A FormData's strings are values, its Files and Blobs streamed data.
 */
export function normalizeForm(form: NonNullable<CurlRequest['form']>, bad: Bad): NormalizedFormPart[] {
  if (form instanceof FormData) return [...form].map(([name, entry], i) => fromFormData(name, entry, i, bad));
  if (!Array.isArray(form))
    throw bad('form', `must be a FormData or an array of parts, got ${describe(form)}`);
  return form.map((part, i) => normalizePart(part, `form[${i}]`, bad));
}

function partName(name: unknown, field: string, bad: Bad): string {
  if (name === undefined || name === '') throw bad(`${field}.name`, 'is required');
  return optionalText(name, `${field}.name`, bad) as string;
}

function fromFormData(name: string, entry: string | File, i: number, bad: Bad): NormalizedFormPart {
  const field = `form[${i}]`;
  partName(name, field, bad);
  if (typeof entry === 'string') return { kind: 'value', name, value: entry };
  return {
    kind: 'stream',
    name,
    source: entry,
    size: entry.size,
    filename: optionalText(entry.name, `${field}.filename`, bad),
    contentType: optionalText(entry.type || 'application/octet-stream', `${field}.contentType`, bad),
  };
}

function normalizePart(part: unknown, field: string, bad: Bad): NormalizedFormPart {
  if (part === null || typeof part !== 'object' || Array.isArray(part))
    throw bad(field, `must be { name, value | file | data }, got ${describe(part)}`);
  const given = part as Record<string, unknown>;
  const kinds = ['value', 'file', 'data'].filter((key) => given[key] !== undefined);
  if (kinds.length !== 1) throw bad(field, 'must have exactly one of value, file and data');
  const kind = kinds[0];
  for (const key of Object.keys(given)) {
    if (!PART_FIELDS[kind].includes(key)) throw bad(`${field}.${key}`, `is not a field of a ${kind} part`);
  }
  const name = partName(given.name, field, bad);
  if (kind === 'value') {
    if (typeof given.value !== 'string')
      throw bad(`${field}.value`, `must be a string, got ${describe(given.value)}`);
    return { kind: 'value', name, value: given.value };
  }
  const filename = optionalText(given.filename, `${field}.filename`, bad);
  let contentType = optionalText(given.contentType, `${field}.contentType`, bad);
  if (kind === 'file') {
    const path = optionalText(given.file, `${field}.file`, bad);
    if (!path) throw bad(`${field}.file`, 'must be a path');
    return { kind: 'file', name, path, filename, contentType };
  }
  // Data with a filename is a file to the server: typed as a browser types a File without a type.
  // (libcurl would send no type, which parsers take for text/plain.)
  if (filename !== undefined) contentType ??= 'application/octet-stream';
  const { data } = given;
  if (data instanceof Uint8Array) {
    if (given.size !== undefined)
      throw bad(`${field}.size`, 'is for streamed data only (bytes have their length)');
    return { kind: 'bytes', name, bytes: data, filename, contentType };
  }
  if (data instanceof Readable && (data.destroyed || data.readableEnded))
    throw bad(`${field}.data`, 'is a Readable that was already consumed (a stream can be sent once)');
  if (!(data instanceof Readable) && !isObservable(data))
    throw bad(`${field}.data`, `must be a Uint8Array, Readable or Observable, got ${describe(data)}`);
  const size = optionalCount(given.size, `${field}.size`, bad);
  return {
    kind: 'stream',
    name,
    source: data as Readable | Observable<Uint8Array>,
    size,
    filename,
    contentType,
  };
}
