// Conversations and their items: ownership, paging and appending, one transaction per change.
import type { Kysely } from 'kysely';
import { badRequest, notFound } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { toSeconds } from '../lib/time.ts';
import type { ConversationRow, Database, ItemRow, NewItemRow } from '../store/db/schema.ts';
import { GroupCommit } from '../store/db/group-commit.ts';
import type { ConversationsRepository } from '../store/db/repositories/conversations.ts';
import type { ItemsRepository } from '../store/db/repositories/items.ts';
import { messageFromInput, presentItem, toRow, type ItemData, type MediaUrlSigner, type ItemView, type MessageInput, type NewItem } from './items.ts';

/** Finds a user's own media row (the media repository); only its type is needed here. */
export interface MediaOwnership {
  findOwned(id: string, userId: string): Promise<{ mime: string } | undefined>;
}

export type Metadata = Record<string, string>;

export interface ConversationView {
  id: string;
  object: 'conversation';
  title: string | null;
  metadata: Metadata;
  created_at: number;
  updated_at: number;
}

export interface ListOptions {
  limit: number;
  after?: string;
  order: 'asc' | 'desc';
}

export interface ListView<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function presentConversation(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    object: 'conversation',
    title: row.title,
    metadata: JSON.parse(row.metadata) as Metadata,
    created_at: toSeconds(row.created_at),
    updated_at: toSeconds(row.updated_at),
  };
}

function listView<T extends { id: string }>(data: T[], hasMore: boolean): ListView<T> {
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}

/** Missing and someone else's alike: a conversation's existence is not told to others. */
function conversationNotFound(id: string) {
  return notFound(`Conversation '${id}' not found`, 'conversation_id');
}

interface Append {
  conversationId: string;
  rows: NewItemRow[];
  now: number;
}

export class ConversationsService {
  private readonly db: Kysely<Database>;
  private readonly conversations: ConversationsRepository;
  private readonly items: ItemsRepository;
  private readonly media: MediaOwnership | undefined;
  /** Appends of one event-loop turn commit together (chat turns finishing at once under load). */
  private readonly appends: GroupCommit<Append>;

  constructor(deps: { db: Kysely<Database>; conversations: ConversationsRepository; items: ItemsRepository; media?: MediaOwnership }) {
    this.db = deps.db;
    this.conversations = deps.conversations;
    this.items = deps.items;
    this.media = deps.media;
    this.appends = new GroupCommit(this.db, (trx, appends) => this.writeAppends(trx, appends));
  }

  /**
   * Client-written image parts may name only the caller's own media: an item's image is shown with a freshly
   * signed URL, so naming someone else's id would hand out their image. Each part also gets its media's type,
   * for the URL's extension. `param` names a part in the error (404, as for any id that is not the caller's).
   */
  async withOwnMedia(userId: string, items: ItemData[], param: (item: number, part: number) => string): Promise<ItemData[]> {
    if (!this.media) return items;
    return Promise.all(
      items.map(async (item, i) => {
        if (item.type !== 'message') return item;
        const content = await Promise.all(
          item.content.map(async (part, j) => {
            if (part.type !== 'input_image' || !part.file_id) return part;
            const row = await this.media!.findOwned(part.file_id, userId);
            if (!row) throw notFound(`Media '${part.file_id}' not found`, param(i, j));
            return { ...part, mime: row.mime };
          }),
        );
        return { ...item, content };
      }),
    );
  }

  async create(userId: string, input: { title?: string | null; metadata?: Metadata; items?: MessageInput[] }): Promise<ConversationView> {
    const now = Date.now();
    const row: ConversationRow = {
      id: newId('conv'),
      user_id: userId,
      title: input.title ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      created_at: now,
      updated_at: now,
    };
    const items = await this.withOwnMedia(userId, (input.items ?? []).map(messageFromInput), (i, j) => `items[${i}].content[${j}].file_id`);
    const itemRows = items.map((item) => toRow(row.id, item, now));
    await this.db.transaction().execute(async (trx) => {
      await this.conversations.insert(row, trx);
      await this.items.insertMany(itemRows, trx);
    });
    return presentConversation(row);
  }

  /** The caller's conversation, or 404 whether it is missing or someone else's. */
  async own(userId: string, id: string): Promise<ConversationRow> {
    const row = await this.conversations.findOwned(id, userId);
    if (!row) throw conversationNotFound(id);
    return row;
  }

  async get(userId: string, id: string): Promise<ConversationView> {
    return presentConversation(await this.own(userId, id));
  }

  async update(userId: string, id: string, changes: { title?: string | null; metadata?: Metadata }): Promise<ConversationView> {
    const row = await this.own(userId, id);
    const updated: ConversationRow = {
      ...row,
      title: changes.title !== undefined ? changes.title : row.title,
      metadata: changes.metadata !== undefined ? JSON.stringify(changes.metadata) : row.metadata,
      updated_at: Math.max(Date.now(), row.updated_at),
    };
    await this.conversations.update(id, { title: updated.title, metadata: updated.metadata, updated_at: updated.updated_at });
    return presentConversation(updated);
  }

  async delete(userId: string, id: string): Promise<{ id: string; object: 'conversation.deleted'; deleted: true }> {
    if (!(await this.conversations.delete(id, userId))) throw conversationNotFound(id);
    return { id, object: 'conversation.deleted', deleted: true };
  }

  async list(userId: string, options: ListOptions): Promise<ListView<ConversationView>> {
    const after = options.after ? await this.conversations.findOwned(options.after, userId) : undefined;
    if (options.after && !after) throw badRequest(`No conversation '${options.after}' to page after`, 'after');
    const page = await this.conversations.list(userId, { limit: options.limit, after, order: options.order });
    return listView(page.rows.map(presentConversation), page.hasMore);
  }

  async listItems(userId: string, conversationId: string, options: ListOptions, sign: MediaUrlSigner): Promise<ListView<ItemView>> {
    await this.own(userId, conversationId);
    let afterSeq: number | undefined;
    if (options.after) {
      const after = await this.items.find(conversationId, options.after);
      if (!after) throw badRequest(`No item '${options.after}' in this conversation to page after`, 'after');
      afterSeq = after.seq;
    }
    const page = await this.items.list(conversationId, { limit: options.limit, afterSeq, order: options.order });
    return listView(page.rows.map((row) => presentItem(row, sign)), page.hasMore);
  }

  async getItem(userId: string, conversationId: string, itemId: string, sign: MediaUrlSigner): Promise<ItemView> {
    await this.own(userId, conversationId);
    const row = await this.items.find(conversationId, itemId);
    if (!row) throw notFound(`Item '${itemId}' not found`, 'item_id');
    return presentItem(row, sign);
  }

  async deleteItem(userId: string, conversationId: string, itemId: string): Promise<ConversationView> {
    const conversation = await this.own(userId, conversationId);
    if (!(await this.items.delete(conversationId, itemId))) throw notFound(`Item '${itemId}' not found`, 'item_id');
    return presentConversation(conversation);
  }

  /** Adds client-supplied items (messages) to the caller's conversation. */
  async addItems(userId: string, conversationId: string, inputs: MessageInput[], sign: MediaUrlSigner): Promise<ListView<ItemView>> {
    await this.own(userId, conversationId);
    const items = await this.withOwnMedia(userId, inputs.map(messageFromInput), (i, j) => `items[${i}].content[${j}].file_id`);
    const rows = await this.append(conversationId, items);
    return listView(rows.map((row) => presentItem(row, sign)), false);
  }

  /**
   * Appends items all at once (one transaction, possibly shared with other appends of the same event-loop
   * turn: see GroupCommit) and moves the conversation up the list. Callers check ownership first.
   * `alongside` is the caller's own write that must commit (or not) with the items; such an append gets a
   * transaction of its own, so that a write of someone else's is never run twice.
   */
  async append(conversationId: string, items: NewItem[], alongside?: (trx: Kysely<Database>) => Promise<void>): Promise<Array<Pick<ItemRow, 'id' | 'data' | 'created_at'>>> {
    const now = Date.now();
    const rows = items.map((item) => toRow(conversationId, item, now));
    const append = { conversationId, rows, now };
    if (alongside) {
      await this.db.transaction().execute(async (trx) => {
        await this.writeAppends(trx, [append]);
        await alongside(trx);
      });
    } else {
      await this.appends.submit(append);
    }
    return rows;
  }

  private async writeAppends(trx: Kysely<Database>, appends: Append[]): Promise<void> {
    const rows = appends.length === 1 ? appends[0]!.rows : appends.flatMap((a) => a.rows);
    await this.items.insertMany(rows, trx);
    const ids = [...new Set(appends.map((a) => a.conversationId))];
    await this.conversations.touchMany(ids, Math.max(...appends.map((a) => a.now)), trx);
  }

  /** Each item's data (JSON) of the caller's conversation in order, for replay to a model; 404 as own(). */
  async ownedHistory(userId: string, id: string): Promise<string[]> {
    const data = await this.conversations.ownedItemData(id, userId);
    if (!data) throw conversationNotFound(id);
    return data;
  }
}
