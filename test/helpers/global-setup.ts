// PostgreSQL and Redis run on every machine; when one is down, start it with the machine's own command.
import { execSync } from 'node:child_process';
import net from 'node:net';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

async function ensure(name: string, port: number, start: string): Promise<void> {
  if (await reachable(port)) return;
  try {
    execSync(start, { stdio: 'ignore', shell: '/bin/bash' });
  } catch {
    // Reported below if it still cannot be reached.
  }
  for (let i = 0; i < 40; i++) {
    if (await reachable(port)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} is not reachable on 127.0.0.1:${port} and could not be started`);
}

export default async function setup(): Promise<void> {
  await ensure('PostgreSQL', 5432, 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start');
  await ensure('Redis', 6379, 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log');
}
