// Signed media URLs: HMAC-SHA256 over the media id and expiry with a secret every instance shares.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };
export const MIME_BY_EXTENSION: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

export class MediaUrlSigner {
  private readonly secret: Buffer;
  private readonly ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.secret = Buffer.from(secret, 'base64url');
    this.ttlSeconds = ttlSeconds;
  }

  private signature(id: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`${id}.${exp}`).digest('base64url');
  }

  /** `{base}/images/{id}.{ext}?exp=…&sig=…`, valid for the configured lifetime. */
  url(base: string, id: string, mime: string, now = Date.now()): string {
    const exp = Math.floor(now / 1000) + this.ttlSeconds;
    const ext = EXTENSIONS[mime] ?? 'bin';
    return `${base}/images/${id}.${ext}?exp=${exp}&sig=${this.signature(id, exp)}`;
  }

  /** 'ok', or why the signature does not hold. */
  verify(id: string, exp: string | undefined, sig: string | undefined, now = Date.now()): 'ok' | 'missing' | 'expired' | 'invalid' {
    if (!exp || !sig) return 'missing';
    if (!/^\d{1,12}$/.test(exp)) return 'invalid';
    const expected = Buffer.from(this.signature(id, Number(exp)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    if (Number(exp) * 1000 < now) return 'expired';
    return 'ok';
  }
}
