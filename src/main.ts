// Start: read config, open stores, build the app, listen; drain and close on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { createContainer } from './container.ts';
import { buildApp } from './app.ts';
import { Sweeper } from './services/sweeper.ts';

const SHUTDOWN_DEADLINE_MS = 10_000;
const JOB_DRAIN_MS = 5_000;

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
  const sweeper = new Sweeper(
    { store: container.mediaStore, db: container.db.kysely, idempotency: container.idempotency, log: app.log },
    { intervalMs: config.sweepIntervalMs, mediaGraceMs: config.mediaOrphanGraceMs },
  );
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
    await sweeper.stop();
    // close() stops listening and drops idle keep-alive connections, but one busy at that moment stays open
    // once its response is done, until the client hangs up: drop each as it goes idle, or the drain waits on it.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close();
    clearInterval(reaper);
    // A job still running after a short wait goes back to the queue, to run again at the next start.
    await container.imageJobRunner.stop(JOB_DRAIN_MS);
    await container.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  if (!closing) {
    sweeper.start();
    container.imageJobRunner.start(app.log);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`easel: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
