// Start: read config, open stores, build the app, listen; drain and close on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { createContainer } from './container.ts';
import { buildApp } from './app.ts';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`easel: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const container = await createContainer(config);
  const app = await buildApp(container);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    timer.unref();
    await app.close();
    await container.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  process.stderr.write(`easel: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
