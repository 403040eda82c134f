// The official openai SDK, unchanged, against the real server process: generate, edit (with a file and
// a mask), and a streamed generation.
import fs from 'node:fs';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, DATABASES, testEnv } from '../helpers/app.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { halfMask, NO_IMAGE_LIMIT, png } from './support.ts';

describe.each(DATABASES)('the openai SDK against easel on %s', (kind) => {
  let server: ServerProcess;
  let env: Record<string, string>;
  let client: OpenAI;

  beforeAll(async () => {
    env = testEnv(kind, NO_IMAGE_LIMIT);
    server = await startServer(env);
    const login = await fetch(`${server.url}/auth/guest-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { access_token } = (await login.json()) as { access_token: string };
    client = new OpenAI({ apiKey: access_token, baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
    if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
    fs.rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });

  const imageAt = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

  it('images.generate with response_format url', async () => {
    const result = await client.images.generate({ prompt: 'A cute robot holding a coffee cup, digital art style', n: 1, size: '512x512', response_format: 'url' });
    expect(result.data).toHaveLength(1);
    const url = result.data![0]!.url!;
    expect(url.startsWith(server.url)).toBe(true);
    expect(await sharp(await imageAt(url)).metadata()).toMatchObject({ format: 'png', width: 512, height: 512 });
  });

  it('images.generate with response_format b64_json', async () => {
    const result = await client.images.generate({ prompt: 'a red fox', size: '1024x1024', response_format: 'b64_json' });
    const bytes = Buffer.from(result.data![0]!.b64_json!, 'base64');
    expect(await sharp(bytes).metadata()).toMatchObject({ width: 1024, height: 1024 });
  });

  it('images.edit with an uploaded file', async () => {
    const image = await toFile(await png(128, 96), 'photo.png', { type: 'image/png' });
    const result = await client.images.edit({ image, prompt: 'make it golden', response_format: 'url' });
    expect(await sharp(await imageAt(result.data![0]!.url!)).metadata()).toMatchObject({ width: 128, height: 96 });
  });

  it('images.edit with several files and a mask', async () => {
    const result = await client.images.edit({
      image: [await toFile(await png(64, 64), 'a.png'), await toFile(await png(32, 32, '#00ff00'), 'b.png')],
      mask: await toFile(await halfMask(64, 64), 'mask.png'),
      prompt: 'a blue sky',
      n: 2,
      response_format: 'b64_json',
    });
    expect(result.data).toHaveLength(2);
    expect((await sharp(Buffer.from(result.data![0]!.b64_json!, 'base64')).metadata()).width).toBe(64);
  });

  it('images.generate with stream: true and partial_images: 2', async () => {
    const stream = await client.images.generate({ prompt: 'a lighthouse', size: '512x512', stream: true, partial_images: 2 });
    const types: string[] = [];
    let final: Buffer | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'image_generation.completed') final = Buffer.from(event.b64_json, 'base64');
    }
    expect(types).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
    expect((await sharp(final!).metadata()).width).toBe(512);
  });

  it('surfaces Easel\'s errors as the SDK\'s own', async () => {
    await expect(client.images.generate({ prompt: 'x', size: '256x256' })).rejects.toMatchObject({ status: 400, param: 'size', type: 'invalid_request_error' });
  });
});
