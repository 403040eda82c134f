// The image provider interface, for code outside the adapters (providers are built by providers/routing).
export type { ImageProvider } from './provider.ts';
