// Appends to conversations commit in groups (one transaction for the appends of an event-loop turn): every
// append lands, in order, and one that fails fails alone and leaves nothing behind. Also the one query that
// checks ownership and reads the history for a chat turn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, startApp, type Guest, type TestApp } from '../helpers/app.ts';
import { GroupCommit } from '../../src/store/db/group-commit.ts';
import type { ItemData } from '../../src/services/items.ts';

const message = (text: string): ItemData => ({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });

describe.each(DATABASES)('conversation appends on %s', (kind) => {
  let t: TestApp;
  let alice: Guest;
  let bob: Guest;

  beforeAll(async () => {
    t = await startApp(kind);
    alice = await t.guest();
    bob = await t.guest();
  });
  afterAll(() => t.close());

  const newConversation = async (guest = alice) => (await t.container.conversations.create(guest.userId, {})).id;
  const texts = async (conversationId: string) => {
    const rows = await t.container.db.kysely.selectFrom('items').select('data').where('conversation_id', '=', conversationId).orderBy('seq').execute();
    return rows.map((row) => (JSON.parse(row.data) as { content: Array<{ text: string }> }).content[0]!.text);
  };

  it('lands every append made at once, each conversation in the order the appends were made', async () => {
    const [a, b] = [await newConversation(), await newConversation()];
    const appends = Array.from({ length: 20 }, (_, i) => {
      const conversation = i % 2 === 0 ? a : b;
      return t.container.conversations.append(conversation, [message(`${i}.1`), message(`${i}.2`)]);
    });
    const rows = await Promise.all(appends);
    expect(rows.every((r) => r.length === 2)).toBe(true);
    const expected = (parity: number) => Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 2 === parity).flatMap((i) => [`${i}.1`, `${i}.2`]);
    expect(await texts(a)).toEqual(expected(0));
    expect(await texts(b)).toEqual(expected(1));
  });

  it('moves every conversation of a group up the list', async () => {
    const [a, b] = [await newConversation(), await newConversation()];
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([t.container.conversations.append(a, [message('x')]), t.container.conversations.append(b, [message('y')])]);
    for (const id of [a, b]) expect((await t.container.conversations.get(alice.userId, id)).updated_at * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    const listed = await t.container.conversations.list(alice.userId, { limit: 2, order: 'desc' });
    expect(listed.data.map((c) => c.id).sort()).toEqual([a, b].sort());
  });

  it('fails only the append whose conversation is gone, and writes none of its items', async () => {
    const [a, gone, c] = [await newConversation(), await newConversation(), await newConversation()];
    await t.container.conversations.delete(alice.userId, gone);
    const results = await Promise.allSettled([
      t.container.conversations.append(a, [message('a1'), message('a2')]),
      t.container.conversations.append(gone, [message('lost1'), message('lost2')]),
      t.container.conversations.append(c, [message('c1')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await texts(a)).toEqual(['a1', 'a2']);
    expect(await texts(c)).toEqual(['c1']);
    expect(await texts(gone)).toEqual([]);
  });

  it('commits a group in one transaction, and retries each entry alone when the group fails', async () => {
    const conversation = await newConversation();
    const groups: string[][] = [];
    const commit = new GroupCommit<string>(t.container.db.kysely, async (trx, entries) => {
      groups.push(entries);
      for (const text of entries) {
        await trx.insertInto('items').values({ id: `msg_${Math.random().toString(36).slice(2)}`, conversation_id: conversation, type: 'message', data: JSON.stringify(message(text)), created_at: Date.now() }).execute();
        // Fails after its own row is written: the rollback must take that row away too.
        if (text === 'bad') throw new Error('bad entry');
      }
    });
    const results = await Promise.allSettled(['one', 'bad', 'three'].map((text) => commit.submit(text)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('bad entry');
    expect(groups).toEqual([['one', 'bad', 'three'], ['one'], ['bad'], ['three']]);
    expect(await texts(conversation)).toEqual(['one', 'three']);

    // A later turn starts a new group.
    groups.length = 0;
    await Promise.all([commit.submit('four'), commit.submit('five')]);
    expect(groups).toEqual([['four', 'five']]);
    expect(await texts(conversation)).toEqual(['one', 'three', 'four', 'five']);
  });

  it('reads the history of the caller\'s own conversation only, empty or not', async () => {
    const empty = await newConversation();
    expect(await t.container.conversations.ownedHistory(alice.userId, empty)).toEqual([]);
    const full = await newConversation();
    await t.container.conversations.append(full, [message('first'), message('second')]);
    const history = await t.container.conversations.ownedHistory(alice.userId, full);
    expect(history.map((data) => JSON.parse(data).content[0].text)).toEqual(['first', 'second']);
    await expect(t.container.conversations.ownedHistory(bob.userId, full)).rejects.toMatchObject({ status: 404 });
    await expect(t.container.conversations.ownedHistory(alice.userId, 'conv_missing')).rejects.toMatchObject({ status: 404 });
  });
});
