// Base64 images from a provider, decoded strictly (a stray character is an error, not a silently shorter
// image) and cheaply: the strict check runs only when the quick one fails.
import { providerError, type ApiError } from '../../lib/errors.ts';

/** Base64 characters decoded per step: a multiple of 4, and small enough to stay an ordinary young string. */
const PIECE = 48 * 1024;
/** Where a sink starts when the answer's length is unknown. */
const UNKNOWN_SIZE_START = 1024 * 1024;

export function invalidBase64(what: string): ApiError {
  return providerError(`Image provider returned ${what} that is not valid base64`);
}

/** How many bytes clean base64 of this length decodes to. */
function decodedLength(chars: number, padding: number): number {
  return Math.floor((chars * 3) / 4) - padding;
}

function paddingOf(text: string): number {
  return text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
}

export function decodeBase64(value: string, what: string): Buffer {
  // Node skips characters outside the alphabet, so any stray one shortens the result and takes the strict
  // path, which spares a regex over every (megabytes-long) clean answer.
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === decodedLength(value.length, paddingOf(value))) return bytes;
  const clean = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw invalidBase64(what);
  return Buffer.from(clean, 'base64');
}

/**
 * Decodes base64 text that arrives in pieces straight into one buffer, sized up front from what the answer
 * can still hold. Decoding the text as one string instead would make a megabytes-long string that lives
 * outside the heap until a full garbage collection; these pieces are short-lived young strings.
 */
export class Base64Sink {
  private out: Buffer;
  private written = 0;
  /** Characters decoded so far (whole groups of four). */
  private decodedChars = 0;
  /** Characters of an incomplete group, waiting for the rest. */
  private carry = '';
  /** The last two characters, for the padding. */
  private last = '';

  constructor(maxBytes?: number) {
    this.out = ownBuffer(maxBytes === undefined ? UNKNOWN_SIZE_START : Math.max(0, Math.ceil(maxBytes)));
  }

  write(text: Buffer): void {
    for (let at = 0; at < text.length; at += PIECE) this.decode(this.carry + text.toString('latin1', at, Math.min(text.length, at + PIECE)));
  }

  /** The image, or undefined when the text was not clean base64. Its memory is its own: see `release`. */
  end(): Buffer | undefined {
    const chars = this.decodedChars + this.carry.length;
    if (this.carry) {
      this.reserve(3);
      this.written += this.out.write(this.carry, this.written, 'base64');
    }
    if (this.written !== decodedLength(chars, paddingOf(this.last))) {
      release(this.out);
      return undefined;
    }
    // A buffer sized for a whole multi-image answer is cut down to this image alone.
    if (this.out.length - this.written > 64 * 1024 + this.written / 4) this.resize(this.written);
    return this.out.subarray(0, this.written);
  }

  /** The text written so far as equivalent base64 (or a character that makes it invalid, if it was). */
  asText(): string {
    if (this.written !== (this.decodedChars / 4) * 3) return '*';
    return this.out.toString('base64', 0, this.written) + this.carry;
  }

  private decode(text: string): void {
    // The carry is in `text`, so a final group with its padding is always whole here.
    this.last = text.slice(-2);
    const whole = text.length - (text.length % 4);
    this.carry = text.slice(whole);
    if (whole === 0) return;
    this.reserve((whole / 4) * 3);
    this.written += this.out.write(whole === text.length ? text : text.slice(0, whole), this.written, 'base64');
    this.decodedChars += whole;
  }

  private reserve(bytes: number): void {
    if (this.written + bytes > this.out.length) this.resize(Math.max(this.written + bytes, this.out.length * 2));
  }

  private resize(size: number): void {
    const resized = ownBuffer(size);
    this.out.copy(resized, 0, 0, this.written);
    release(this.out);
    this.out = resized;
  }
}

/** A buffer with memory of its own (never a slice of Node's shared pool), so that it can be released. */
function ownBuffer(size: number): Buffer {
  return Buffer.allocUnsafeSlow(size);
}

/**
 * Frees a buffer made by `ownBuffer` (or the sink) now instead of at the next full garbage collection,
 * which under a stream of megabyte images comes only after tens of megabytes of such garbage. Every view
 * of it reads as empty afterwards.
 */
export function release(bytes: Buffer): void {
  // ArrayBuffer.prototype.transfer (ES2024) detaches the buffer, which frees its memory.
  (bytes.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}

/**
 * Releases a chunk read off a socket once it has been consumed, if its memory is its own: Node copies
 * each piece of an HTTP body into a buffer of its own, so 1.5 MB of such garbage per image would
 * otherwise wait for a collection, and the ones that outlive a scavenge wait for a full one. A view into
 * a larger buffer, or a slice of Node's shared pool (which cannot be detached), is left alone.
 */
export function releaseChunk(chunk: Buffer): void {
  if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== chunk.byteLength) return;
  try {
    release(chunk);
  } catch {
    // Not detachable (Node's pool): the collector will have it.
  }
}
