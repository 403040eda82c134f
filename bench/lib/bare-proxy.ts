// The least a proxy on node:http can do, as a reference for the overhead and image benchmarks: read the
// request, send it on a kept-alive socket to the upstream and stream the answer back. No authentication,
// validation, routing, logging or metrics: its CPU per request is what node:http and loopback TCP cost on
// this machine, the floor under any gateway on node:http.
// Run as its own process: PORT=… UPSTREAM=http://… node bench/lib/bare-proxy.ts
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:1');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function readBody(stream: http.IncomingMessage, done: (body: Buffer) => void): void {
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  stream.on('end', () => done(Buffer.concat(parts)));
}

http
  .createServer((req, res) => {
    readBody(req, (body) => {
      const headers = { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length };
      const call = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers }, (answer) => {
        // Streamed through as it arrives: the headers leave with the first piece, nothing is held whole.
        const length = answer.headers['content-length'];
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json', ...(length ? { 'content-length': length } : {}) });
        answer.pipe(res);
      });
      call.on('error', () => res.writeHead(502).end());
      call.end(body);
    });
  })
  .listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
