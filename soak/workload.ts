// The soak's mixed workload: what a crowd of guide-following clients does, one operation at a time. Each
// operation checks its answer and throws when it is not what the API promises.

export interface Session {
  base: string;
  token: string;
  refreshToken: string;
  conversations: string[];
  images: Array<{ id: string; url: string }>;
}

export interface Operation {
  name: string;
  weight: number;
  /** Which server it runs against: the one with the demo chat model or the one with a loopback upstream. */
  target: 'demo' | 'upstream';
  run(session: Session): Promise<void>;
}

const pick = <T>(list: T[]): T | undefined => list[Math.floor(Math.random() * list.length)];

async function call(session: Session, method: string, path: string, body?: unknown, expected = 200): Promise<Response> {
  const res = await fetch(`${session.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${session.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status !== expected) throw new Error(`${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res;
}

export async function login(base: string): Promise<Session> {
  const res = await fetch(`${base}/auth/guest-login`, { method: 'POST' });
  if (res.status !== 201) throw new Error(`guest login: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { access_token: string; refresh_token: string };
  return { base, token: body.access_token, refreshToken: body.refresh_token, conversations: [], images: [] };
}

async function conversationOf(session: Session): Promise<string> {
  const existing = pick(session.conversations);
  if (existing) return existing;
  const id = ((await (await call(session, 'POST', '/v1/conversations', { title: 'soak' })).json()) as { id: string }).id;
  session.conversations.push(id);
  return id;
}

async function chat(session: Session, stream: boolean): Promise<void> {
  const conversation = await conversationOf(session);
  const res = await call(session, 'POST', '/v1/chat/completions', { messages: [{ role: 'user', content: 'How is the soak going?' }], conversation, stream, max_tokens: 50 });
  const text = await res.text();
  if (stream ? !text.includes('data: [DONE]') || text.includes('"error"') : !(JSON.parse(text) as { choices?: unknown[] }).choices?.length) {
    throw new Error(`chat${stream ? ' stream' : ''}: unexpected answer ${text.slice(0, 200)}`);
  }
}

export const OPERATIONS: Operation[] = [
  {
    name: 'conversation.create',
    weight: 8,
    target: 'demo',
    async run(session) {
      const id = ((await (await call(session, 'POST', '/v1/conversations', { title: 'soak', metadata: { run: 'soak' } })).json()) as { id: string }).id;
      session.conversations.push(id);
      if (session.conversations.length > 20) session.conversations.shift();
    },
  },
  {
    name: 'items.add',
    weight: 14,
    target: 'demo',
    async run(session) {
      const id = await conversationOf(session);
      await call(session, 'POST', `/v1/conversations/${id}/items`, { items: [{ role: 'user', content: 'a note from the soak' }] });
    },
  },
  {
    name: 'items.list',
    weight: 14,
    target: 'demo',
    async run(session) {
      const id = await conversationOf(session);
      await (await call(session, 'GET', `/v1/conversations/${id}/items?limit=20`)).arrayBuffer();
    },
  },
  { name: 'chat.demo', weight: 10, target: 'demo', run: (s) => chat(s, false) },
  { name: 'chat.demo.stream', weight: 8, target: 'demo', run: (s) => chat(s, true) },
  { name: 'chat.upstream', weight: 10, target: 'upstream', run: (s) => chat(s, false) },
  { name: 'chat.upstream.stream', weight: 8, target: 'upstream', run: (s) => chat(s, true) },
  {
    name: 'images.generate',
    weight: 8,
    target: 'demo',
    async run(session) {
      const conversation_id = await conversationOf(session);
      const body = (await (await call(session, 'POST', '/v1/images/generations', { prompt: 'a lighthouse in a storm', n: 1, size: '512x512', conversation_id })).json()) as { data: Array<{ id: string; url: string }> };
      session.images.push(body.data[0]!);
      if (session.images.length > 10) session.images.shift();
    },
  },
  {
    name: 'images.fetch',
    weight: 8,
    target: 'demo',
    async run(session) {
      const image = pick(session.images);
      if (!image) return;
      const signed = await fetch(image.url);
      if (signed.status !== 200 || signed.headers.get('content-type') !== 'image/png') throw new Error(`signed URL: HTTP ${signed.status}`);
      await signed.arrayBuffer();
      await (await call(session, 'GET', `/v1/media/${image.id}`)).arrayBuffer();
    },
  },
  {
    name: 'auth.refresh',
    weight: 2,
    target: 'demo',
    async run(session) {
      const res = await fetch(`${session.base}/auth/refresh-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refreshToken }) });
      if (res.status !== 200) throw new Error(`refresh: HTTP ${res.status}`);
      const body = (await res.json()) as { access_token: string; refresh_token: string };
      session.token = body.access_token;
      session.refreshToken = body.refresh_token;
    },
  },
];
