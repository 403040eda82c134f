import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImagesAnswerReader, type ImagesAnswer } from '../../src/providers/image/answer.ts';
import { Base64Sink } from '../../src/providers/image/base64.ts';

type Answer = { data: Array<{ b64_json?: unknown }> };

/** Reads the answer in pieces cut at the given points (none: all at once). */
function readInPieces(body: Buffer, cuts: number[] = [], declareLength = true): ImagesAnswer {
  const reader = new ImagesAnswerReader(declareLength ? body.length : undefined);
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (body.length + 1)).sort((a, b) => a - b), body.length]) {
    reader.push(body.subarray(from, Math.max(from, cut)));
    from = Math.max(from, cut);
  }
  return reader.finish();
}

/** The answer as a reader sees it: each b64_json value as the base64 of the image it decodes to. */
function resolved(body: string, cuts: number[] = [], declareLength = true): unknown {
  const answer = readInPieces(Buffer.from(body), cuts, declareLength);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'b64_json' && typeof v === 'string' ? answer.imageOf(v, 'an image').bytes.toString('base64') : walk(v)]));
    }
    return value;
  };
  return walk(answer.json);
}

/** Base64 as a provider may send it: padded or not, sometimes wrapped over lines. */
const base64 = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.boolean()).map(([bytes, wrapped, unpadded]) => {
  let text = Buffer.from(bytes).toString('base64');
  if (unpadded) text = text.replace(/=+$/, '');
  return { text: wrapped ? text.replace(/(.{76})/g, '$1\n') : text, canonical: Buffer.from(bytes).toString('base64') };
});

describe('an images answer read whole', () => {
  it('reads the same answer as JSON.parse, for answers of every shape', () => {
    const image = fc.record({ b64_json: fc.oneof(base64, fc.constant(null)), revised_prompt: fc.string(), url: fc.webUrl() }, { requiredKeys: [] });
    const answer = fc.record({ created: fc.integer(), data: fc.array(image, { maxLength: 4 }), model: fc.string(), extra: fc.jsonValue() }, { requiredKeys: ['data'] });
    fc.assert(
      fc.property(answer, fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (value, pretty, cuts, declareLength) => {
        const sent = { ...value, data: value.data.map((item) => (item.b64_json ? { ...item, b64_json: item.b64_json.text } : item)) };
        const expected = { ...value, data: value.data.map((item) => (item.b64_json ? { ...item, b64_json: item.b64_json.canonical } : item)) };
        const text = JSON.stringify(sent, null, pretty ? 2 : undefined);
        expect(resolved(text, cuts, declareLength)).toEqual(JSON.parse(JSON.stringify(expected)));
        // Every value that needs no unescaping was cut out, however close the keys sit.
        const parsed = readInPieces(Buffer.from(text), cuts).json as Answer;
        sent.data.forEach((item, i) => {
          const clean = typeof item.b64_json === 'string' && !JSON.stringify(item.b64_json).includes('\\');
          if (clean) expect(parsed.data[i]!.b64_json).not.toBe(item.b64_json);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('cuts clean base64 out of the text instead of parsing it', () => {
    const answer = readInPieces(Buffer.from('{"data":[{"b64_json":"QUJD"},{"b64_json" : "REVG","revised_prompt":"p"}]}'));
    const data = (answer.json as { data: Array<{ b64_json: string }> }).data;
    expect(data.map((d) => d.b64_json)).not.toContain('QUJD');
    expect(data.map((d) => d.b64_json)).not.toContain('REVG');
    expect(data.map((d) => answer.imageOf(d.b64_json, 'an image').bytes.toString())).toEqual(['ABC', 'DEF']);
  });

  it('leaves values with JSON escapes to JSON.parse', () => {
    const answer = readInPieces(Buffer.from('{"data":[{"b64_json":"QU\\/C\\nREVG"}]}'));
    const [item] = (answer.json as Answer).data;
    expect(item!.b64_json).toBe('QU/C\nREVG');
  });

  it('does not take a quoted "b64_json" inside a string for a key', () => {
    const text = JSON.stringify({ data: [{ revised_prompt: 'say "b64_json": "x"', b64_json: 'QUJD' }] });
    expect(resolved(text)).toEqual(JSON.parse(text));
  });

  it('refuses base64 with a stray character, decoded on the way or not', () => {
    for (const text of ['{"data":[{"b64_json":"QU*D"}]}', '{"data":[{"b64_json":"QU*\\nD"}]}']) {
      const answer = readInPieces(Buffer.from(text));
      const [item] = (answer.json as { data: Array<{ b64_json: string }> }).data;
      expect(() => answer.imageOf(item!.b64_json, 'an image')).toThrow('Image provider returned an image that is not valid base64');
    }
  });

  it('throws on what is not JSON', () => {
    expect(() => readInPieces(Buffer.from('<html>oops</html>'))).toThrow(SyntaxError);
    expect(() => readInPieces(Buffer.from('{"data":[{"b64_json":"QUJD"'))).toThrow(SyntaxError);
    expect(() => readInPieces(Buffer.from('{"data":[{"b64_json":"QUJD"}]} trailing'))).toThrow(SyntaxError);
  });
});

describe('Base64Sink', () => {
  it('decodes base64 fed one character at a time, padded or not', () => {
    for (const text of ['QQ==', 'QUI=', 'QUJD', 'QQ', 'QUI', '']) {
      const sink = new Base64Sink(4);
      for (const char of text) sink.write(Buffer.from(char));
      expect(sink.end()?.toString()).toBe(Buffer.from(text, 'base64').toString());
    }
  });

  it('decodes base64 fed in any pieces to the same bytes, and refuses a stray character anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150_000 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), fc.nat(), fc.option(fc.nat()), (bytes, unpadded, cuts, where, sizeHint) => {
        let text = Buffer.from(bytes).toString('base64');
        if (unpadded) text = text.replace(/=+$/, '');
        const feed = (input: Buffer) => {
          const sink = new Base64Sink(sizeHint === null ? undefined : sizeHint % 300_000);
          let from = 0;
          for (const cut of [...cuts.map((c) => c % (input.length + 1)).sort((a, b) => a - b), input.length]) {
            sink.write(input.subarray(from, Math.max(from, cut)));
            from = Math.max(from, cut);
          }
          return sink.end();
        };
        expect(feed(Buffer.from(text))?.equals(Buffer.from(bytes))).toBe(true);
        if (text.length > 0) {
          const broken = Buffer.from(text);
          broken[where % text.length] = 0x2a; // '*'
          expect(feed(broken)).toBeUndefined();
        }
      }),
      { numRuns: 100 },
    );
  });
});
