// Starts @portkey-ai/gateway's own server entry (build/start-server.js), bound to 127.0.0.1 only.
// Its entry calls serve({fetch, port}) without a hostname (all interfaces), so listen() is wrapped here,
// before the entry loads, to pin the host. Arguments (--headless --port=N) pass through to the entry.
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
    else args[1] = '127.0.0.1';
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;

const require = createRequire(import.meta.url);
const entry = path.join(path.dirname(require.resolve('@portkey-ai/gateway/package.json')), 'build/start-server.js');
await import(pathToFileURL(entry).href);
