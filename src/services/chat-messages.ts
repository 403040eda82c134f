// Between conversation items and OpenAI chat messages: history replayed to a model, new turns stored as items.
import { describeAttachedImage, describeImageCall } from '../providers/chat/image-notes.ts';
import type { ChatMessage } from '../providers/chat/provider.ts';
import type { ContentPart, ItemData, ItemStatus } from './items.ts';

/**
 * The conversation as chat messages, in order, from each item's stored data (JSON). Images become text
 * notes (see image-notes.ts for why).
 */
export function historyToMessages(itemData: string[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const data of itemData) {
    const item = JSON.parse(data) as ItemData;
    if (item.type === 'message') {
      const content = item.content.map(partText).filter(Boolean).join('\n');
      // An empty turn (e.g. a reply cut off before its first word) is refused by some providers.
      if (content) messages.push({ role: item.role, content });
    } else if (item.type === 'image_generation_call') {
      const note = describeImageCall({
        action: item.action ?? 'generate',
        prompt: item.prompt,
        model: item.model,
        size: item.size,
        mediaIds: item.images.map((image) => image.id),
        failed: item.status === 'failed',
      });
      messages.push({ role: 'assistant', content: note });
    }
  }
  return messages;
}

function partText(part: ContentPart): string {
  return part.type === 'input_image' ? describeAttachedImage(part.file_id ?? part.image_url) : part.text;
}

interface RequestPart {
  type?: unknown;
  text?: unknown;
  image_url?: unknown;
  file_id?: unknown;
}

/**
 * The request's user messages as items to store (system prompts and client-side history are the client's
 * business and are not). Inline (data:) images are not stored: no item ever holds base64.
 */
export function userItems(messages: ChatMessage[]): ItemData[] {
  const items: ItemData[] = [];
  for (const message of messages) {
    if (message.role !== 'user') continue;
    const parts = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : Array.isArray(message.content) ? (message.content as RequestPart[]) : [];
    const content = parts.flatMap(storedPart);
    if (content.length > 0) items.push({ type: 'message', role: 'user', status: 'completed', content });
  }
  return items;
}

function storedPart(part: RequestPart): ContentPart[] {
  if ((part?.type === 'text' || part?.type === 'input_text') && typeof part.text === 'string') return [{ type: 'input_text', text: part.text }];
  if (part?.type === 'input_image' && typeof part.file_id === 'string') return [{ type: 'input_image', file_id: part.file_id, image_url: null }];
  if (part?.type === 'image_url' || part?.type === 'input_image') {
    const url = typeof part.image_url === 'string' ? part.image_url : (part.image_url as { url?: unknown } | undefined)?.url;
    if (typeof url !== 'string') return [];
    if (url.startsWith('data:')) return [{ type: 'input_text', text: describeAttachedImage(url) }];
    return [{ type: 'input_image', file_id: null, image_url: url }];
  }
  return [];
}

export function assistantItem(text: string, status: ItemStatus): ItemData {
  return { type: 'message', role: 'assistant', status, content: [{ type: 'output_text', text, annotations: [] }] };
}

/** The first choice's text of a finished completion ('' when it only called tools). */
export function replyText(body: { choices?: Array<{ index?: number; message?: { content?: unknown } }> }): string {
  const choice = body.choices?.find((c) => (c.index ?? 0) === 0) ?? body.choices?.[0];
  return typeof choice?.message?.content === 'string' ? choice.message.content : '';
}
