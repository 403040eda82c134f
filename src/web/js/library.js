// All of the user's generated images, across conversations, newest first.
import { listConversations, listItems } from './api.js';
import { generatedImages } from './items.js';
import { ApiError } from './errors.js';

const PARALLEL_CONVERSATIONS = 4;

/**
 * @returns {Promise<Array<ReturnType<typeof generatedImages>[number] & {itemOrder: number, conversationId: string, conversationTitle: string}>>}
 */
export async function allImages() {
  const conversations = await listConversations();
  const images = [];
  // Timestamps are whole seconds; within a conversation, a later item is newer even in the same second.
  let itemOrder = 0;
  // A few conversations at a time: fast enough, without flooding the server.
  for (let i = 0; i < conversations.length; i += PARALLEL_CONVERSATIONS) {
    const batch = conversations.slice(i, i + PARALLEL_CONVERSATIONS);
    const itemLists = await Promise.all(batch.map((conversation) => itemsUnlessGone(conversation.id)));
    itemLists.forEach((items, j) => {
      const conversation = batch[j];
      for (const item of items) {
        itemOrder++;
        for (const image of generatedImages(item)) {
          images.push({ ...image, itemOrder, conversationId: conversation.id, conversationTitle: conversation.title || 'Untitled' });
        }
      }
    });
  }
  // Stable sort: the images of one generation keep their order.
  return images.sort((a, b) => b.createdAt - a.createdAt || b.itemOrder - a.itemOrder);
}

/** Items of a conversation, or none if it was deleted meanwhile (e.g. in another tab). */
async function itemsUnlessGone(conversationId) {
  try {
    return await listItems(conversationId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return [];
    throw error;
  }
}
