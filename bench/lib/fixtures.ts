// The image the mock upstream returns: a real 1024x1024 PNG of a gradient with grain, tuned so its
// base64 is about 1.5 MB, the size of a typical generated image. Made once with sharp and cached.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { RESULTS_DIR } from './processes.ts';

const SIDE = 1024;
// 4 grain levels per 2-pixel run: PNG ~1.15 MB, base64 ~1.53 MB (more grain quickly makes it bigger).
const GRAIN_LEVELS = 4;
const GRAIN_RUN = 2;

export async function noisyPng(): Promise<{ file: string; bytes: number; base64Bytes: number }> {
  const file = path.join(RESULTS_DIR, 'cache', `grain-${SIDE}-${GRAIN_LEVELS}-${GRAIN_RUN}.png`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const noise = randomBytes(SIDE * SIDE);
    const raw = Buffer.alloc(SIDE * SIDE * 3);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const grain = noise[y * SIDE + Math.floor(x / GRAIN_RUN)]! % GRAIN_LEVELS;
        const i = (y * SIDE + x) * 3;
        raw[i] = ((x >> 2) + grain) & 255;
        raw[i + 1] = ((y >> 2) + grain) & 255;
        raw[i + 2] = (((x + y) >> 3) + grain) & 255;
      }
    }
    await sharp(raw, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png({ compressionLevel: 9 }).toFile(file);
  }
  const bytes = fs.statSync(file).size;
  return { file, bytes, base64Bytes: Math.ceil(bytes / 3) * 4 };
}
