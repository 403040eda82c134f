// The built-in demo image model: real pictures of the asked size, deterministic, edits that follow the mask.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DemoImageProvider, DEMO_IMAGE_MODEL } from '../../src/providers/image/demo.ts';
import type { ImageStreamEvent } from '../../src/providers/image/provider.ts';
import { halfMask, png } from './support.ts';

const demo = new DemoImageProvider();
const generate = (prompt: string, size = '512x512', n = 1, options = {}) => demo.generate({ prompt, n, size, options });

async function pixel(bytes: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

describe('the demo image model', () => {
  it.each(['512x512', '1024x1024', '1792x1024', '1024x1792'])('draws a real %s PNG', async (size) => {
    const batch = await generate('A serene mountain landscape at sunset', size);
    const [width, height] = size.split('x').map(Number);
    expect(batch.model).toBe(DEMO_IMAGE_MODEL);
    expect(await sharp(batch.images[0]!.bytes).metadata()).toMatchObject({ format: 'png', width, height });
  });

  it('is deterministic: the same prompt gives the same picture, another prompt another one', async () => {
    const [a, b, c] = await Promise.all([generate('a red fox'), generate('a red fox'), generate('a blue whale')]);
    expect(a.images[0]!.bytes.equals(b.images[0]!.bytes)).toBe(true);
    expect(a.images[0]!.bytes.equals(c.images[0]!.bytes)).toBe(false);
  });

  it('takes its colours from the prompt', async () => {
    // The sky's bottom edge is the prompt's first colour when there is no time-of-day word.
    const [green] = (await generate('green')).images;
    const [r, g, b] = await pixel(green!.bytes, 5, 250);
    expect(g).toBeGreaterThan(r);
    expect(g).toBeGreaterThan(b);
  });

  it('makes n different images and honours output_format', async () => {
    const batch = await generate('three boats', '512x512', 3, { output_format: 'jpeg', output_compression: 60 });
    expect(batch.images).toHaveLength(3);
    expect(new Set(batch.images.map((i) => i.bytes.toString('base64'))).size).toBe(3);
    expect((await sharp(batch.images[0]!.bytes).metadata()).format).toBe('jpeg');
  });

  it('edits only where the mask is transparent', async () => {
    const input = await png(200, 200, '#ff0000');
    const batch = await demo.edit({ prompt: 'make it blue', n: 1, size: 'auto', options: {}, images: [{ bytes: input, mime: 'image/png' }], mask: { bytes: await halfMask(200, 200), mime: 'image/png' } });
    const out = batch.images[0]!.bytes;
    expect(await sharp(out).metadata()).toMatchObject({ width: 200, height: 200 });
    // Left half: the mask is opaque, so the original shows.
    expect(await pixel(out, 30, 100)).toEqual([255, 0, 0]);
    // Right half: recoloured towards the prompt's blue.
    const [r, , b] = await pixel(out, 170, 100);
    expect(b).toBeGreaterThan(40);
    expect(r).toBeLessThan(240);
  });

  it('streams ever sharper partial images, then the final one', async () => {
    const events: ImageStreamEvent[] = [];
    for await (const event of demo.stream({ operation: 'generate', request: { prompt: 'a lighthouse', n: 1, size: '512x512', options: {} } }, 2)) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['partial', 'partial', 'completed']);
    const final = events[2]!.type === 'completed' ? events[2]!.image.bytes : Buffer.alloc(0);
    expect(final.equals((await generate('a lighthouse')).images[0]!.bytes)).toBe(true);
    for (const event of events.slice(0, 2)) {
      if (event.type !== 'partial') continue;
      expect(await sharp(event.bytes).metadata()).toMatchObject({ width: 512, height: 512 });
      expect(event.bytes.equals(final)).toBe(false);
    }
  });
});
