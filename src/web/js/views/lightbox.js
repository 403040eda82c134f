// The enlarged image: a modal dialog with its prompt, a download link and a way back to its conversation.
import { byId } from '../dom.js';
import { icon } from '../icons.js';
import { downloadName } from '../items.js';
import { conversationHref } from '../router.js';

export function setUpLightbox() {
  const dialog = /** @type {HTMLDialogElement} */ (byId('lightbox'));
  byId('lightbox-download').replaceChildren(icon('download'), 'Download');
  byId('lightbox-close').addEventListener('click', () => dialog.close());
  // A click on the backdrop (the dialog box itself, outside its content) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  byId('lightbox-conversation').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => byId('lightbox-image').removeAttribute('src'));
}

/**
 * @param {{id: string, url: string, prompt: string, size?: string, conversationId?: string}} image
 */
export function openLightbox(image) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('lightbox'));
  const img = /** @type {HTMLImageElement} */ (byId('lightbox-image'));
  img.src = image.url;
  img.alt = image.prompt ? `Generated image: ${image.prompt}` : 'Generated image';
  byId('lightbox-caption').textContent = [image.prompt, image.size].filter(Boolean).join(' · ');
  const download = /** @type {HTMLAnchorElement} */ (byId('lightbox-download'));
  download.href = image.url;
  download.download = downloadName(image);
  const toConversation = /** @type {HTMLAnchorElement} */ (byId('lightbox-conversation'));
  toConversation.hidden = !image.conversationId;
  if (image.conversationId) toConversation.href = conversationHref(image.conversationId);
  dialog.showModal();
  byId('lightbox-close').focus();
}
