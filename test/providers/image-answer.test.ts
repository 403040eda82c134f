import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImagesAnswer } from '../../src/providers/image/answer.ts';

/** What a reader of the answer sees: every b64_json value resolved to its base64 text. */
function resolved(body: string): unknown {
  const answer = parseImagesAnswer(Buffer.from(body));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'b64_json' && typeof v === 'string' ? answer.base64Of(v) : walk(v)]));
    }
    return value;
  };
  return walk(answer.json);
}

describe('parseImagesAnswer', () => {
  it('reads the same answer as JSON.parse, for answers of every shape', () => {
    const base64 = fc.base64String({ maxLength: 64 });
    const image = fc.record({ b64_json: fc.oneof(base64, fc.string(), fc.constant(null)), revised_prompt: fc.string(), url: fc.webUrl() }, { requiredKeys: [] });
    const answer = fc.record({ created: fc.integer(), data: fc.array(image, { maxLength: 4 }), model: fc.string(), extra: fc.jsonValue() }, { requiredKeys: ['data'] });
    fc.assert(
      fc.property(answer, fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(resolved(text)).toEqual(JSON.parse(text));
        // Every value that needs no unescaping was cut out, however close the keys sit.
        const parsed = parseImagesAnswer(Buffer.from(text)).json as { data: Array<{ b64_json?: unknown }> };
        value.data.forEach((item, i) => {
          const clean = typeof item.b64_json === 'string' && !JSON.stringify(item.b64_json).includes('\\');
          if (clean) expect(parsed.data[i]!.b64_json).not.toBe(item.b64_json);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('cuts clean base64 out of the text instead of parsing it', () => {
    const answer = parseImagesAnswer(Buffer.from('{"data":[{"b64_json":"QUJD"},{"b64_json" : "REVG","revised_prompt":"p"}]}'));
    const data = (answer.json as { data: Array<{ b64_json: string }> }).data;
    expect(data.map((d) => d.b64_json)).not.toContain('QUJD');
    expect(data.map((d) => d.b64_json)).not.toContain('REVG');
    expect(data.map((d) => answer.base64Of(d.b64_json))).toEqual(['QUJD', 'REVG']);
  });

  it('leaves values with JSON escapes to JSON.parse', () => {
    const answer = parseImagesAnswer(Buffer.from('{"data":[{"b64_json":"QU\\/C\\nREVG"}]}'));
    const [item] = (answer.json as { data: Array<{ b64_json: string }> }).data;
    expect(answer.base64Of(item!.b64_json)).toBe('QU/C\nREVG');
  });

  it('does not take a quoted "b64_json" inside a string for a key', () => {
    const text = JSON.stringify({ data: [{ revised_prompt: 'say "b64_json": "x"', b64_json: 'QUJD' }] });
    expect(resolved(text)).toEqual(JSON.parse(text));
  });

  it('throws on what is not JSON', () => {
    expect(() => parseImagesAnswer(Buffer.from('<html>oops</html>'))).toThrow(SyntaxError);
    expect(() => parseImagesAnswer(Buffer.from('{"data":[{"b64_json":"QUJD"'))).toThrow(SyntaxError);
    expect(() => parseImagesAnswer(Buffer.from('{"data":[{"b64_json":"QUJD"}]} trailing'))).toThrow(SyntaxError);
  });
});
