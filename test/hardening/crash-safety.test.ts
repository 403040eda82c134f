// Kill the server with SIGKILL in the middle of a stream of writes, start it again on the same data:
// the database opens, and every write that was acknowledged is there.
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server-process.ts';
import { dropSchema, testEnv, type DatabaseKind } from '../helpers/app.ts';

describe.each(['sqlite', 'postgres'] as DatabaseKind[])('crash safety on %s', (kind) => {
  const env = testEnv(kind, { LOG_LEVEL: 'warn' });
  afterAll(async () => {
    if (env.DATABASE_SCHEMA) await dropSchema(env.DATABASE_SCHEMA);
  });

  it('keeps every acknowledged write across SIGKILL', async () => {
    let server = await startServer(env);
    const login = await (await fetch(`${server.url}/auth/guest-login`, { method: 'POST' })).json();
    const headers = { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json' };
    const conv = await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: '{}' })).json();

    const acknowledged: string[] = [];
    let killed = false;
    // Four writers add items until the process dies under them.
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await fetch(`${server.url}/v1/conversations/${conv.id}/items`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ items: [{ role: 'user', content: `w${w}-${i}` }] }),
          });
          if (res.status === 200) acknowledged.push(...(await res.json()).data.map((item: { id: string }) => item.id));
        } catch {
          return; // connection reset by the kill
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    expect(await server.stop('SIGKILL')).toBeNull();
    await Promise.all(writers);

    server = await startServer(env);
    try {
      const stored = new Set<string>();
      let after: string | undefined;
      for (;;) {
        const qs = new URLSearchParams({ limit: '100', order: 'asc', ...(after ? { after } : {}) });
        const page = await (await fetch(`${server.url}/v1/conversations/${conv.id}/items?${qs}`, { headers })).json();
        for (const item of page.data) stored.add(item.id);
        if (!page.has_more) break;
        after = page.last_id;
      }
      const missing = acknowledged.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      await server.stop();
    }
  });
});
