import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';

describe.each(DATABASES)('conversations on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    t = await startApp(kind);
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(() => t.close());

  const create = (guest: Guest, payload: unknown) => t.as(guest.token, { method: 'POST', url: '/v1/conversations', payload: payload as object });

  it('creates, reads, updates and deletes a conversation', async () => {
    const created = await create(alice, { title: 'Image Generation Test Conversation', metadata: { topic: 'art' } });
    expect(created.statusCode).toBe(200);
    const conv = created.json();
    expect(conv).toMatchObject({ object: 'conversation', title: 'Image Generation Test Conversation', metadata: { topic: 'art' } });
    expect(conv.id).toMatch(/^conv_[0-9a-z]{26}$/);
    expect(typeof conv.created_at).toBe('number');

    const got = await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}` });
    expect(got.json()).toEqual(conv);

    const updated = await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}`, payload: { title: 'Renamed' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: conv.id, title: 'Renamed', metadata: { topic: 'art' } });

    const deleted = await t.as(alice.token, { method: 'DELETE', url: `/v1/conversations/${conv.id}` });
    expect(deleted.json()).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });

    for (const [method, url] of [
      ['GET', `/v1/conversations/${conv.id}`],
      ['POST', `/v1/conversations/${conv.id}`],
      ['DELETE', `/v1/conversations/${conv.id}`],
      ['GET', `/v1/conversations/${conv.id}/items`],
      ['POST', `/v1/conversations/${conv.id}/items`],
    ] as const) {
      const payload = method !== 'POST' ? undefined : url.endsWith('/items') ? { items: [{ role: 'user', content: 'x' }] } : { title: 'x' };
      const res = await t.as(alice.token, { method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.type).toBe('not_found_error');
    }
  });

  it('creates with an empty body and with no body at all', async () => {
    const res = await t.as(alice.token, { method: 'POST', url: '/v1/conversations', payload: {} });
    expect(res.statusCode).toBe(200);
    expect(res.json().title).toBeNull();
    const bare = await t.as(alice.token, { method: 'POST', url: '/v1/conversations' });
    expect(bare.statusCode).toBe(200);
  });

  it('hides other users\' conversations and items behind 404', async () => {
    const conv = (await create(alice, { items: [{ role: 'user', content: 'secret' }] })).json();
    const item = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items` })).json().data[0];
    for (const [method, url] of [
      ['GET', `/v1/conversations/${conv.id}`],
      ['POST', `/v1/conversations/${conv.id}`],
      ['DELETE', `/v1/conversations/${conv.id}`],
      ['GET', `/v1/conversations/${conv.id}/items`],
      ['GET', `/v1/conversations/${conv.id}/items/${item.id}`],
      ['DELETE', `/v1/conversations/${conv.id}/items/${item.id}`],
    ] as const) {
      const res = await t.as(bob.token, { method, url, payload: method === 'POST' ? { title: 'mine now' } : undefined });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const list = (await t.as(bob.token, { method: 'GET', url: '/v1/conversations' })).json();
    expect(list.data.map((c: { id: string }) => c.id)).not.toContain(conv.id);
    // Still intact for its owner.
    expect((await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items/${item.id}` })).statusCode).toBe(200);
  });

  it('validates titles, metadata and initial items', async () => {
    const cases: Array<[unknown, string | null]> = [
      [{ title: 3 }, 'title'],
      [{ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
      [{ metadata: { k: 1 } }, 'metadata.k'],
      [{ items: Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })) }, 'items'],
      [{ items: [{ role: 'robot', content: 'x' }] }, 'items[0].role'],
      [{ unknown_field: true }, 'unknown_field'],
    ];
    for (const [payload, param] of cases) {
      const res = await create(alice, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('stores initial items with normalised content', async () => {
    const conv = (await create(alice, { items: [{ role: 'user', content: 'Hi' }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] }] })).json();
    const items = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?order=asc` })).json();
    expect(items.data).toHaveLength(2);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hi' }] });
    expect(items.data[0].id).toMatch(/^msg_/);
    expect(items.data[1]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] });
  });

  it('adds, gets and deletes items', async () => {
    const conv = (await create(alice, {})).json();
    const added = await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}/items`, payload: { items: [{ role: 'user', content: 'one' }, { role: 'user', content: 'two' }] } });
    expect(added.statusCode).toBe(200);
    const [one, two] = added.json().data;
    expect(one.content[0].text).toBe('one');
    const got = await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items/${two.id}` });
    expect(got.json()).toMatchObject({ id: two.id, content: [{ text: 'two' }] });
    const del = await t.as(alice.token, { method: 'DELETE', url: `/v1/conversations/${conv.id}/items/${one.id}` });
    expect(del.json()).toMatchObject({ id: conv.id, object: 'conversation' });
    expect((await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items/${one.id}` })).statusCode).toBe(404);
    expect((await t.as(alice.token, { method: 'DELETE', url: `/v1/conversations/${conv.id}/items/${one.id}` })).statusCode).toBe(404);

    const tooMany = await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}/items`, payload: { items: Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })) } });
    expect(tooMany.statusCode).toBe(400);
    const none = await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}/items`, payload: { items: [] } });
    expect(none.statusCode).toBe(400);
  });

  it('pages items in both orders and stays correct while items are added', async () => {
    const conv = (await create(alice, {})).json();
    const texts = Array.from({ length: 45 }, (_, i) => `m${i}`);
    for (let i = 0; i < texts.length; i += 15) {
      await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}/items`, payload: { items: texts.slice(i, i + 15).map((text) => ({ role: 'user', content: text })) } });
    }
    async function walk(order: 'asc' | 'desc', addDuring = false): Promise<string[]> {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const qs = new URLSearchParams({ limit: '10', order, ...(after ? { after } : {}) });
        const page = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?${qs}` })).json();
        seen.push(...page.data.map((item: { content: Array<{ text: string }> }) => item.content[0]!.text));
        if (addDuring && seen.length === 10) {
          await t.as(alice.token, { method: 'POST', url: `/v1/conversations/${conv.id}/items`, payload: { items: [{ role: 'user', content: 'late' }] } });
        }
        if (!page.has_more) break;
        expect(page.last_id).toBe(page.data.at(-1).id);
        after = page.last_id;
      }
      return seen;
    }
    expect(await walk('asc')).toEqual(texts);
    expect(await walk('desc')).toEqual([...texts].reverse());
    // An item added mid-walk shows up at the end of an ascending walk, and nothing repeats or is skipped.
    expect(await walk('asc', true)).toEqual([...texts, 'late']);

    const defaults = (await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items` })).json();
    expect(defaults.data).toHaveLength(20);
    expect(defaults.data[0].content[0].text).toBe('late');
    for (const qs of ['limit=0', 'limit=101', 'limit=abc', 'order=sideways', 'limit=1.5']) {
      const res = await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?${qs}` });
      expect(res.statusCode, qs).toBe(400);
      expect(res.json().error.param).toBe(qs.split('=')[0]);
    }
    const badAfter = await t.as(alice.token, { method: 'GET', url: `/v1/conversations/${conv.id}/items?after=msg_nope` });
    expect(badAfter.statusCode).toBe(400);
  });

  it('lists own conversations, most recently updated first, with cursor paging', async () => {
    const carol = await t.guest();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await create(carol, { title: `c${i}` })).json().id);
      await new Promise((r) => setTimeout(r, 2));
    }
    // Touching the oldest moves it to the top.
    await t.as(carol.token, { method: 'POST', url: `/v1/conversations/${ids[0]}/items`, payload: { items: [{ role: 'user', content: 'bump' }] } });
    const expected = [ids[0], ids[4], ids[3], ids[2], ids[1]];
    const first = (await t.as(carol.token, { method: 'GET', url: '/v1/conversations?limit=2' })).json();
    expect(first.data.map((c: { id: string }) => c.id)).toEqual(expected.slice(0, 2));
    expect(first.has_more).toBe(true);
    const rest = (await t.as(carol.token, { method: 'GET', url: `/v1/conversations?limit=10&after=${first.last_id}` })).json();
    expect(rest.data.map((c: { id: string }) => c.id)).toEqual(expected.slice(2));
    expect(rest.has_more).toBe(false);
  });
});
