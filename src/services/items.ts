// Conversation items: how they are stored and how they are shown. Stored items reference media by id;
// URLs are signed when an item is read, so history never holds an expired link or base64.
import { newId } from '../lib/ids.ts';
import { toSeconds } from '../lib/time.ts';
import type { ItemRow, NewItemRow } from '../store/db/schema.ts';

export type Role = 'user' | 'assistant' | 'system' | 'developer';

export interface MediaRef {
  id: string;
  mime: string;
}

export type ContentPart =
  | { type: 'input_text'; text: string }
  | { type: 'output_text'; text: string; annotations: unknown[] }
  | { type: 'input_image'; file_id: string | null; image_url: string | null; mime?: string };

export type ItemStatus = 'completed' | 'incomplete' | 'in_progress' | 'failed';

export type ItemData =
  | { type: 'message'; role: Role; status: ItemStatus; content: ContentPart[] }
  | { type: 'image_generation_call'; status: ItemStatus; prompt: string; model: string; size: string; images: MediaRef[]; action?: 'generate' | 'edit' };

export type NewItem = ItemData & { id?: string };

/** A part as a client may send it: content may be a plain string. */
export interface MessageInput {
  type?: 'message';
  role: Role;
  content: string | Array<{ type: string; text?: string; image_url?: string | null; file_id?: string | null }>;
}

export type ItemView = { id: string; type: string; [field: string]: unknown };

/** Signs a media URL for the reader of an item. */
export type MediaUrlSigner = (ref: MediaRef) => string;

export function messageFromInput(input: MessageInput): ItemData {
  const textType = input.role === 'assistant' ? 'output_text' : 'input_text';
  const parts = typeof input.content === 'string' ? [{ type: textType, text: input.content }] : input.content;
  const content: ContentPart[] = parts.map((part) => {
    if (part.type === 'input_image') {
      return { type: 'input_image', file_id: part.file_id ?? null, image_url: part.file_id ? null : (part.image_url ?? null) };
    }
    if (part.type === 'output_text') return { type: 'output_text', text: part.text ?? '', annotations: [] };
    return { type: 'input_text', text: part.text ?? '' };
  });
  return { type: 'message', role: input.role, status: 'completed', content };
}

export function toRow(conversationId: string, item: NewItem, createdAt: number): NewItemRow {
  const { id, ...data } = item;
  const prefix = item.type === 'image_generation_call' ? 'ig' : 'msg';
  return { id: id ?? newId(prefix), conversation_id: conversationId, type: item.type, data: JSON.stringify(data), created_at: createdAt };
}

export function parseItem(row: Pick<ItemRow, 'data'>): ItemData {
  return JSON.parse(row.data) as ItemData;
}

/** The API view of an item, with media URLs signed now. */
export function presentItem(row: Pick<ItemRow, 'id' | 'data' | 'created_at'>, sign: MediaUrlSigner): ItemView {
  const data = parseItem(row);
  const base = { id: row.id, object: 'conversation.item', created_at: toSeconds(row.created_at) };
  if (data.type === 'image_generation_call') {
    return { ...base, ...data, images: data.images.map((ref) => ({ id: ref.id, url: sign(ref) })) };
  }
  if (data.type === 'message') {
    const content = data.content.map((part) => {
      if (part.type !== 'input_image' || !part.file_id) return part;
      const { mime, ...rest } = part;
      return { ...rest, image_url: sign({ id: part.file_id, mime: mime ?? 'image/png' }) };
    });
    return { ...base, ...data, content };
  }
  return { ...base, ...(data as { type: string }) };
}
