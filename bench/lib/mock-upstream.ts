// A minimal OpenAI-compatible upstream, run as its own process (`node bench/lib/mock-upstream.ts`).
// It answers at once from precomputed bytes, so what the benchmarks measure on top of it is the proxy.
//   POST /v1/chat/completions  JSON, or SSE when the body has "stream": true (MOCK_STREAM_CHUNKS chunks,
//                              MOCK_STREAM_GAP_MS apart, the first at once)
//   GET  /v1/models
//   POST /v1/images/generations  {created, data: [{b64_json}]} of the PNG at MOCK_IMAGE_FILE
import fs from 'node:fs';
import http from 'node:http';

const port = Number(process.env.PORT ?? 0);
const chunks = Number(process.env.MOCK_STREAM_CHUNKS ?? 20);
const gapMs = Number(process.env.MOCK_STREAM_GAP_MS ?? 5);
const imageFile = process.env.MOCK_IMAGE_FILE;

const created = Math.floor(Date.now() / 1000);
const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'bench-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
  }),
);

const chunk = (delta: object, finish: string | null) =>
  Buffer.from(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
const streamChunks = [
  chunk({ role: 'assistant', content: '' }, null),
  ...Array.from({ length: Math.max(0, chunks - 2) }, (_, i) => chunk({ content: `word${i} ` }, null)),
  chunk({}, 'stop'),
];
const DONE = Buffer.from('data: [DONE]\n\n');

const models = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'bench-model', object: 'model', created, owned_by: 'bench' }] }));

const image = imageFile
  ? Buffer.from(JSON.stringify({ created, data: [{ b64_json: fs.readFileSync(imageFile).toString('base64') }] }))
  : undefined;

function sendJson(res: http.ServerResponse, body: Buffer, status = 200) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function stream(res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i < streamChunks.length) {
      res.write(streamChunks[i++]);
      setTimeout(next, gapMs);
    } else {
      res.end(DONE);
    }
  };
  next();
}

const STREAM = /"stream"\s*:\s*true/;

const server = http.createServer((req, res) => {
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.on('end', () => {
    const url = req.url ?? '';
    if (req.method === 'POST' && url.endsWith('/chat/completions')) {
      // A regex, not JSON.parse: the mock should cost the same whatever history the proxy sends.
      return STREAM.test(Buffer.concat(body).toString('latin1')) ? stream(res) : sendJson(res, completion);
    }
    if (req.method === 'GET' && url.endsWith('/models')) return sendJson(res, models);
    if (req.method === 'POST' && url.endsWith('/images/generations') && image) return sendJson(res, image);
    sendJson(res, Buffer.from(JSON.stringify({ error: { message: `mock: no route ${req.method} ${url}`, type: 'invalid_request_error' } })), 404);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
