// Picks the image provider: the configured OpenAI-compatible upstream, else the built-in demo model.
import type { Config } from '../../config.ts';
import { DemoImageProvider } from './demo.ts';
import { OpenAICompatibleImageProvider } from './openai-compatible.ts';
import type { ImageProvider } from './provider.ts';

export type { ImageProvider } from './provider.ts';

export function createImageProvider(config: Pick<Config, 'imageProvider' | 'maxImageBytes' | 'modelsCacheTtlSeconds'>): ImageProvider {
  if (!config.imageProvider) return new DemoImageProvider();
  return new OpenAICompatibleImageProvider(config.imageProvider, {
    maxImageBytes: config.maxImageBytes,
    modelsCacheTtlSeconds: config.modelsCacheTtlSeconds,
  });
}
