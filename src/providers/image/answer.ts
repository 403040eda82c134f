// Reads an images answer (`{"data":[{"b64_json":"…"}], …}`) as it arrives, without parsing megabytes of
// base64 as JSON. Each b64_json string value is decoded straight from the incoming chunks into the image's
// buffer (base64 needs no JSON unescaping), and only the small remainder is parsed. Parsing the whole
// 1.5 MB answer instead costs ~3 ms of the event loop and holds it three times over (bytes, UTF-8 text,
// parsed string), all of it garbage that the collector then has to find.
import { Base64Sink, decodeBase64, invalidBase64, release } from './base64.ts';

const KEY = Buffer.from('"b64_json"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export interface ImagesAnswer {
  /** The answer, each b64_json value that was decoded on the way replaced by a placeholder string. */
  json: unknown;
  /**
   * The image a b64_json value holds (a placeholder's, or the value itself decoded); throws if it is not
   * base64. Images decoded on the way come with `release` (see base64.ts).
   */
  imageOf(value: string, what: string): { bytes: Buffer; release?: () => void };
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The position after the whitespace from `at`. */
function skipSpace(bytes: Buffer, at: number): number {
  while (isSpace(bytes[at])) at++;
  return at;
}

/**
 * Where a b64_json string value starts (just past its opening quote) for the key at `key`; `undefined`
 * when the bytes run out first, -1 when the key is not followed by a string value.
 */
function valueStart(bytes: Buffer, key: number): number | undefined {
  let at = skipSpace(bytes, key + KEY.length);
  if (at >= bytes.length) return undefined;
  if (bytes[at] !== COLON) return -1;
  at = skipSpace(bytes, at + 1);
  if (at >= bytes.length) return undefined;
  return bytes[at] === QUOTE ? at + 1 : -1;
}

/**
 * Push the answer's chunks in order, then `finish()`; `expectedBytes` (its content-length) sizes the images.
 * It keeps no reference to a chunk it was given (what it keeps, it copies), so the caller may release them.
 */
export class ImagesAnswerReader {
  /** The JSON outside the decoded values, with placeholders in their place. */
  private readonly skeleton: Buffer[] = [];
  private readonly images = new Map<string, Buffer | undefined>();
  /** Bytes held back while it is not yet known whether they begin a b64_json key. */
  private held: Buffer = Buffer.alloc(0);
  /** The value being decoded, or (after an escape turned up in it) being copied for JSON.parse. */
  private value: { sink: Base64Sink } | { escaped: boolean } | undefined;
  private readonly expectedBytes: number | undefined;
  private seen = 0;

  constructor(expectedBytes?: number) {
    this.expectedBytes = expectedBytes;
  }

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    let rest = chunk;
    while (rest.length > 0) rest = this.value ? this.inValue(rest) : this.outside(rest);
  }

  finish(): ImagesAnswer {
    this.skeleton.push(this.held);
    // Unterminated value: the text ends inside a string, so it is not JSON.
    if (this.value) throw new SyntaxError('Unterminated string in JSON');
    const json: unknown = JSON.parse(Buffer.concat(this.skeleton).toString('utf8'));
    const images = this.images;
    return {
      json,
      imageOf(value, what) {
        if (!images.has(value)) return { bytes: decodeBase64(value, what) };
        const image = images.get(value);
        if (!image) throw invalidBase64(what);
        return { bytes: image, release: () => release(image) };
      },
    };
  }

  /** Outside any b64_json value: keeps the bytes for the skeleton until a value starts. */
  private outside(chunk: Buffer): Buffer {
    const bytes = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    for (let key = bytes.indexOf(KEY); key !== -1; key = bytes.indexOf(KEY, key + 1)) {
      // `"b64_json"` with bare quotes is a key or a string value, never text inside a string (whose
      // quotes would be escaped); it is a key when a colon follows.
      const start = valueStart(bytes, key);
      if (start === undefined) {
        this.keep(bytes.subarray(0, key));
        this.held = Buffer.from(bytes.subarray(key));
        return Buffer.alloc(0);
      }
      if (start === -1) continue;
      this.keep(bytes.subarray(0, start));
      const expected = this.expectedBytes === undefined ? undefined : ((this.expectedBytes - this.seen + bytes.length - start) * 3) / 4;
      this.value = { sink: new Base64Sink(expected) };
      return bytes.subarray(start);
    }
    // The end may hold the first bytes of a key that the next chunk completes.
    const keep = Math.min(bytes.length, KEY.length - 1);
    this.keep(bytes.subarray(0, bytes.length - keep));
    this.held = Buffer.from(bytes.subarray(bytes.length - keep));
    return Buffer.alloc(0);
  }

  /** Inside a b64_json value: decodes it up to its closing quote. */
  private inValue(chunk: Buffer): Buffer {
    const value = this.value!;
    if ('escaped' in value) return this.copyEscaped(chunk, value);
    const quote = chunk.indexOf(QUOTE);
    const text = quote === -1 ? chunk : chunk.subarray(0, quote);
    const escape = text.indexOf(BACKSLASH);
    if (escape !== -1) {
      // An escape (`\/`, a `\n` line break) needs real JSON decoding: hand what was decoded so far back
      // to the skeleton as base64 text and copy the rest of the value as it is.
      this.skeleton.push(Buffer.from(value.sink.asText()));
      this.value = { escaped: false };
      return chunk;
    }
    value.sink.write(text);
    if (quote === -1) return Buffer.alloc(0);
    // A NUL (escaped in the text) marks the placeholder: no value decoded on the way can contain one.
    const index = this.images.size;
    this.images.set(`\0${index}`, value.sink.end());
    this.skeleton.push(Buffer.from(`\\u0000${index}`));
    this.value = undefined;
    return chunk.subarray(quote);
  }

  /** Copies an escaped value into the skeleton up to its closing (unescaped) quote. */
  private copyEscaped(chunk: Buffer, value: { escaped: boolean }): Buffer {
    for (let at = 0; at < chunk.length; at++) {
      if (value.escaped) value.escaped = false;
      else if (chunk[at] === BACKSLASH) value.escaped = true;
      else if (chunk[at] === QUOTE) {
        this.keep(chunk.subarray(0, at));
        this.value = undefined;
        return chunk.subarray(at);
      }
    }
    this.keep(chunk);
    return Buffer.alloc(0);
  }

  /** Adds to the skeleton a copy of the bytes (never a view of the caller's chunk). */
  private keep(bytes: Buffer): void {
    if (bytes.length > 0) this.skeleton.push(Buffer.from(bytes));
  }
}
