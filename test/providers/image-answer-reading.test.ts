// How the OpenAI-compatible image provider reads answers off a real loopback server: with and without a
// content-length, in many small writes, past its size limit (declared or not), and several at once.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/server-process.ts';
import { png } from '../images/support.ts';
import { OpenAICompatibleImageProvider } from '../../src/providers/image/openai-compatible.ts';

type Respond = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function providerFor(respond: Respond, maxImageBytes = 1 << 20): Promise<OpenAICompatibleImageProvider> {
  const port = await freePort();
  server = http.createServer(respond);
  await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  return new OpenAICompatibleImageProvider({ url: `http://127.0.0.1:${port}/v1`, apiKey: undefined, timeoutMs: 5000 }, { maxImageBytes, modelsCacheTtlSeconds: 60 });
}

/** Writes the text in pieces of `size` bytes, chunked (no content-length). */
function inPieces(text: string, size: number): Respond {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += size) res.write(bytes.subarray(at, at + size));
    res.end();
  };
}

const generate = (provider: OpenAICompatibleImageProvider, n = 1) => provider.generate({ prompt: 'x', n, size: '64x64', options: {} });

describe('reading an image answer', () => {
  it('takes a chunked answer written a few bytes at a time', async () => {
    const [red, blue] = [await png(64, 64, '#ff0000'), await png(32, 32, '#0000ff')];
    const answer = JSON.stringify({ model: 'm', data: [{ b64_json: red.toString('base64'), revised_prompt: 'r' }, { b64_json: blue.toString('base64') }] });
    const batch = await generate(await providerFor(inPieces(answer, 7)), 2);
    expect(batch.images.map((i) => i.bytes.equals(i === batch.images[0] ? red : blue))).toEqual([true, true]);
    expect(batch.images[0]!.revisedPrompt).toBe('r');
    expect(batch.model).toBe('m');
  });

  it('refuses an answer larger than it accepts, whether declared or not, and says so', async () => {
    // The limit for one image of at most 1 KiB: its base64 plus 1 MiB for the JSON around it.
    const huge = JSON.stringify({ data: [{ b64_json: 'A'.repeat(1100 * 1024) }] });
    for (const respond of [inPieces(huge, 64 * 1024), (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'content-length': String(Buffer.byteLength(huge)) }).end(huge)]) {
      const provider = await providerFor(respond, 1024);
      await expect(generate(provider)).rejects.toMatchObject({ type: 'provider_error', message: expect.stringContaining('larger than Easel accepts') });
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it('answers every one of many requests at once, each with its own image', async () => {
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => png(16 + i, 16, '#00ff00')));
    const provider = await providerFor((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const index = Number(JSON.parse(body).prompt);
        inPieces(JSON.stringify({ data: [{ b64_json: images[index]!.toString('base64') }] }), 4096)(req, res);
      });
    });
    const batches = await Promise.all(images.map((_, i) => provider.generate({ prompt: String(i), n: 1, size: '64x64', options: {} })));
    batches.forEach((batch, i) => expect(batch.images[0]!.bytes.equals(images[i]!)).toBe(true));
  });

  it('says which answers are not JSON', async () => {
    const provider = await providerFor((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>busy</html>'));
    await expect(generate(provider)).rejects.toMatchObject({ type: 'provider_error', message: 'Image provider returned a response that is not JSON' });
  });
});
