// Commands that work on a deployment's data open it the way the server does: same configuration, same container.
// The container is imported when a command needs it, so `--help` and usage errors answer at once.
import { loadConfig, type Config } from '../config.ts';
import type { Container } from '../container.ts';

export function config(): Config {
  return loadConfig(process.env);
}

export async function withContainer<T>(fn: (container: Container) => Promise<T>): Promise<T> {
  const settings = config();
  const { createContainer } = await import('../container.ts');
  const container = await createContainer(settings);
  try {
    return await fn(container);
  } finally {
    await container.close();
  }
}
