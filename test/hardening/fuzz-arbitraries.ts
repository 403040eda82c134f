// fast-check generators of hostile HTTP requests for the fuzz test: paths with odd ids, query strings,
// headers, and bodies that are either junk or "almost right" (built from the route's own JSON schema, so
// many requests get past validation and into the handlers).
import fc from 'fast-check';

export interface FuzzRoute {
  url: string;
  methods: string[];
  body?: unknown;
  multipart?: unknown;
  querystring?: unknown;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface FuzzContext {
  /**
   * Ids that exist (the caller's, another user's, deleted ones) to put into paths and bodies; the first
   * ones are the caller's conversation and one of its items, in the order routes take them.
   */
  ids: string[];
  /** Valid bearer tokens (the caller's); junk ones are generated. */
  tokens: string[];
  /** A small real PNG, for uploads that should get past the image checks. */
  png: Buffer;
}

/** The value once in `oneIn` times, undefined otherwise. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

/** The value nine times in ten, undefined otherwise. */
function usually<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: fc.constant(undefined) });
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** Percent-encodes everything but the unreserved characters, byte by byte (lone surrogates included). */
export function encodeSegment(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const longText = fc.integer({ min: 101, max: 20_000 }).map((n) => 'a'.repeat(n));

/** Texts that break naive code: traversal, encoded slashes, NULs, bad escapes, SQL and template bits. */
const NASTY_TEXT = [
  '', ' ', '..', '../', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2F', '%2e%2e%2f', '%00', '%', '%E0%A4%A', '%ZZ',
  '\u0000', '\ud800', '\uffff', '🙂', 'null', 'undefined', 'NaN', '-1', '0', '1e400', '9'.repeat(40), "' OR 1=1 --", '${7*7}', '{{7*7}}',
  '<script>alert(1)</script>', '__proto__', 'constructor', 'prototype', 'conv_', 'jan_', 'msg_', 'jan_01aaaaaaaaaaaaaaaaaaaaaaaa.png',
  'jan_01aaaaaaaaaaaaaaaaaaaaaaaa.png?exp=1&sig=x', 'a/b', 'a\\b', 'file:///etc/passwd', 'http://169.254.169.254/', 'data:image/png;base64,AAAA',
];

/** Raw (unencoded) path pieces that are still valid to send on the wire. */
const RAW_SEGMENTS = ['..', '.', '%2F', '%2e%2e', '..%2F..%2F', '%', '%E0%A4%A', '%ZZ', '%00', '%C0%AE', ';', '!', '*', '~', '@', ':', '(', ')', "'"];

export function idArbitrary(context: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...context.ids) },
    { weight: 1, arbitrary: fc.constantFrom(...context.ids).map((id) => `${id}.png`) },
    { weight: 1, arbitrary: fc.constantFrom('conv_', 'msg_', 'ig_', 'jan_', 'key_').chain((p) => fc.stringMatching(/^[0-9a-z]{0,40}$/).map((s) => p + s)) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_TEXT) },
    { weight: 2, arbitrary: unicode },
    { weight: 1, arbitrary: longText },
  );
}

/** A path segment for a route parameter: mostly encoded text, sometimes raw tricks. */
function segmentArbitrary(context: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: idArbitrary(context).map(encodeSegment) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...RAW_SEGMENTS, 'a', 'jan_x.png'), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')) },
  );
}

/** A value of JSON that is wrong in interesting ways: huge numbers, deep nesting, long strings, odd types. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 0.5, 1e-300, 2 ** 31, -(2 ** 31) - 1, 10 ** 21) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_TEXT) },
  { weight: 1, arbitrary: unicode },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('id', 'b64_json', 'type', 'text', 'role', 'content', '__proto__', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
);

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  then?: Schema;
  else?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
};

/** A value that fits the schema (most of the time): the path into the handlers. */
export function plausible(schema: Schema | undefined, context: FuzzContext, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return junkValue;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf ?? (schema.then && schema.else ? [schema.then, schema.else] : undefined);
  if (branches) return fc.oneof(...branches.map((b) => plausible(b, context, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return fc.oneof(
        fc.string({ minLength: Math.max(1, schema.minLength ?? 0), maxLength: Math.min(schema.maxLength ?? 30, 30) }),
        fc.constantFrom(...context.ids),
        // An image, as base64 and as a data URL, for the fields that take one.
        fc.constantFrom(context.png.toString('base64'), `data:image/png;base64,${context.png.toString('base64')}`),
      );
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 100, 100) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -5, max: schema.maximum ?? 100, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(plausible(schema.items, context, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object': {
      const properties = schema.properties ?? {};
      const names = Object.keys(properties);
      if (names.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      // Required fields are there (a junk value may still stand in for one); optional ones come and go.
      return fc.record(Object.fromEntries(names.map((n) => [n, fieldValue(properties[n], context, depth + 1)])), { requiredKeys: schema.required ?? [] });
    }
    default:
      return junkValue;
  }
}

/** One field of an "almost right" object: usually plausible, sometimes junk. */
function fieldValue(schema: Schema | undefined, context: FuzzContext, depth: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 9, arbitrary: plausible(schema, context, depth) }, { weight: 1, arbitrary: junkValue });
}

/** An object with the schema's fields (mostly right) plus, sometimes, fields nobody asked for. */
function almostRight(schema: Schema | undefined, context: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const base = plausible(schema, context).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v }));
  const extra = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('extra', 'n', 'prompt', 'stream', 'model', 'conversation', 'id', 'messages'), junkValue, { maxKeys: 2 }) },
  );
  return fc.tuple(base, extra).map(([b, e]) => ({ ...b, ...e }));
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json;charset=utf-16',
  'text/plain', 'text/plain; charset=utf-8', 'multipart/form-data', 'multipart/form-data; boundary=fuzz', 'application/x-www-form-urlencoded',
  'application/octet-stream', 'application/vnd.api+json', 'application/jsonx', 'image/png', '*/*', ';', 'json',
];

function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Raw JSON-ish texts: truncated, duplicated keys, prototype keys, numbers JSON cannot hold, BOMs. */
const rawBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '{', '}', '[]', 'null', 'true', '"x"', '0', '{"a":', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"n":1e400}', '{"n":-1e400}',
    '{"prompt":"x","prompt":"y"}', '\ufeff{}', '{}garbage', '{"messages":[{"role":"user","content":"x"}]}\u0000', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map(jsonText),
);

function multipartBody(fields: Array<[string, string | Buffer]>, boundary: string): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const isFile = Buffer.isBuffer(value);
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${isFile ? '; filename="f.png"\r\nContent-Type: image/png' : ''}\r\n\r\n`));
    parts.push(isFile ? value : Buffer.from(value));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/** A multipart form with the schema's field names (and some others), text values and image files. */
function multipartArbitrary(schema: Schema | undefined, context: FuzzContext): fc.Arbitrary<{ payload: Buffer; contentType: string }> {
  const names = [...Object.keys(schema?.properties ?? {}), 'image[]', 'junk', '__proto__'];
  const file = fc.oneof(fc.constant(context.png), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), fc.constant(Buffer.alloc(0)));
  const text = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('1', '2', 'true', 'url', 'b64_json', '512x512', 'auto', 'a prompt') }, fc.constantFrom(...NASTY_TEXT), unicode);
  const field = fc.tuple(fc.constantFrom(...names), fc.oneof(text, file)) as fc.Arbitrary<[string, string | Buffer]>;
  // Mostly a prompt and an image, so that many forms get as far as the provider.
  const prompt = usually(fc.tuple(fc.constant('prompt'), text));
  const image = usually(fc.tuple(fc.constantFrom('image', 'image[]'), file));
  return fc.tuple(prompt, image, fc.array(field, { maxLength: 5 }), sometimes(fc.constant(true), 6)).map(([p, i, fields, truncate]) => {
    const all = [p, i, ...fields].filter((f): f is [string, string | Buffer] => f !== undefined);
    const payload = multipartBody(all, 'fuzzboundary');
    return { payload: truncate ? payload.subarray(0, Math.floor(payload.length / 2)) : payload, contentType: 'multipart/form-data; boundary=fuzzboundary' };
  });
}

function bodyArbitrary(route: FuzzRoute, context: FuzzContext): fc.Arbitrary<{ payload?: string | Buffer; contentType?: string }> {
  const contentType = sometimes(fc.constantFrom(...CONTENT_TYPES), 2);
  const options: Array<fc.WeightedArbitrary<{ payload?: string | Buffer; contentType?: string }>> = [
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.tuple(rawBody, contentType).map(([payload, type]) => ({ payload, contentType: type })) },
    { weight: 2, arbitrary: fc.tuple(junkValue, contentType).map(([value, type]) => ({ payload: jsonText(value), contentType: type ?? 'application/json' })) },
  ];
  if (route.body) options.push({ weight: 10, arbitrary: almostRight(route.body as Schema, context).map((value) => ({ payload: jsonText(value), contentType: 'application/json' })) });
  if (route.multipart) options.push({ weight: 4, arbitrary: multipartArbitrary(route.multipart as Schema, context) });
  return fc.oneof(...options);
}

function queryArbitrary(route: FuzzRoute, context: FuzzContext): fc.Arbitrary<string> {
  const known = Object.keys((route.querystring as Schema | undefined)?.properties ?? {});
  const key = fc.oneof(fc.constantFrom(...known, 'limit', 'after', 'order', 'exp', 'sig', '__proto__', 'constructor', 'a[b]', 'include[]', ''), unicode);
  const value = fc.oneof(
    fc.constantFrom('1', '0', '-1', '20', '100', '101', '1e400', 'NaN', 'asc', 'desc', '9999999999', 'true', ''),
    idArbitrary(context),
  );
  const pairs = fc.array(fc.tuple(key, value), { maxLength: 4 }).map((list) => list.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&'));
  const raw = fc.constantFrom('%', '&&&', '=', 'a=%ZZ', 'limit=1&limit=2', 'a[b][c]=1', '?', '#x', 'a=1;b=2');
  return fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 3, arbitrary: pairs }, { weight: 1, arbitrary: raw }).map((q) => (q ? `?${q}` : ''));
}

function authorizationArbitrary(context: FuzzContext): fc.Arbitrary<string | undefined> {
  const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/);
  return fc.oneof(
    { weight: 40, arbitrary: fc.constantFrom(...context.tokens).map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Basic dXNlcjpwYXNz', 'Token abc', 'Bearer a b', 'Bearer null', 'Bearer eyJhbGciOiJub25lIn0.e30.') },
    { weight: 1, arbitrary: fc.tuple(base64url, base64url, base64url).map(([a, b, c]) => `Bearer eyJ${a}.${b}.${c}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 60_000 }).map((n) => `Bearer ${'A'.repeat(n)}`) },
    { weight: 1, arbitrary: base64url.map((s) => `Bearer sk_${s}`) },
    { weight: 1, arbitrary: fc.constantFrom(...context.tokens).map((t) => `Bearer ${t.slice(0, -3)}abc`) },
  );
}

/** Header values the HTTP layer itself accepts: visible ASCII and spaces. */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,300}$/);

function headersArbitrary(context: FuzzContext, contentType: string | undefined): fc.Arbitrary<Record<string, string>> {
  return fc
    .record(
      {
        authorization: authorizationArbitrary(context),
        'x-request-id': sometimes(fc.oneof(headerText, fc.constant('req-fuzz-1')), 3),
        'idempotency-key': sometimes(headerText, 6),
        accept: sometimes(fc.constantFrom('*/*', 'text/event-stream', 'application/json', 'image/*', ''), 3),
        'content-encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', 'x'), 10),
        'if-none-match': sometimes(fc.constantFrom('*', '"x"', 'W/"x"', ','), 10),
        origin: sometimes(fc.constantFrom('https://evil.example', 'null'), 10),
      },
      { requiredKeys: ['authorization'] },
    )
    .map((headers) => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') out[k] = v;
      if (contentType !== undefined) out['content-type'] = contentType;
      return out;
    });
}

/** A request to the route: its own method most of the time, its path with fuzzed parameters, and the rest. */
export function requestArbitrary(route: FuzzRoute, context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const method = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...route.methods) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) });
  const paramNames = [...route.url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
  // Half the time the caller's own ids in order (conversation, then item), so requests reach the handlers.
  const own = fc.constant(context.ids.slice(0, paramNames.length).map(encodeSegment));
  const params = fc.oneof(fc.tuple(...paramNames.map(() => segmentArbitrary(context))), own);
  return fc
    .tuple(method, params, queryArbitrary(route, context), bodyArbitrary(route, context))
    .chain(([m, values, query, body]) =>
      headersArbitrary(context, body.contentType).map((headers): FuzzRequest => {
        let i = 0;
        const path = route.url.replace(/:(\w+)|\*/g, () => values[i++]!);
        return { method: m, url: path + query, headers, ...(body.payload !== undefined ? { payload: body.payload } : {}) };
      }),
    );
}

/** Requests to paths no route has: random segments under / and /v1, with any method. */
export function unknownRouteArbitrary(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const segment = fc.oneof(fc.stringMatching(/^[a-z0-9_.-]{1,12}$/), fc.constantFrom(...RAW_SEGMENTS), unicode.map(encodeSegment));
  return fc
    .tuple(fc.constantFrom('', '/v1', '/auth', '/images', '/v1/conversations', '//', '/v1/images'), fc.array(segment, { minLength: 1, maxLength: 6 }), fc.constantFrom(...METHODS), authorizationArbitrary(context))
    .map(([prefix, segments, method, authorization]): FuzzRequest => ({
      method,
      url: `${prefix}/${segments.join('/')}`,
      headers: authorization ? { authorization } : {},
    }));
}
