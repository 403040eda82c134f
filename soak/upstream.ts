// A loopback OpenAI-compatible chat provider for the soak: a short think, then an answer (JSON or SSE).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const THINK_MS = 20;

function chunk(content: string, finishReason: string | null = null): string {
  const body = { id: 'chatcmpl-soak', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'soak-model', choices: [{ index: 0, delta: { content }, finish_reason: finishReason }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

export async function startChatUpstream(): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const part of req) raw += part;
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'soak-model', object: 'model', created: 0, owned_by: 'soak' }] }));
      return;
    }
    calls++;
    const body = JSON.parse(raw || '{}') as { stream?: boolean };
    await new Promise((r) => setTimeout(r, THINK_MS));
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const word of ['Soak ', 'test ', 'reply']) res.write(chunk(word));
      res.end(chunk('', 'stop') + 'data: [DONE]\n\n');
      return;
    }
    const completion = {
      id: 'chatcmpl-soak',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'soak-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Soak test reply' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    calls: () => calls,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
