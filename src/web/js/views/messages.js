// How conversation items look: message bubbles, generated-image cards, and their live (in-progress) forms.
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { downloadName, generatedImages, messageImageUrls, messageText } from '../items.js';

/** @typedef {(image: {id: string, url: string, prompt: string, size?: string}) => void} OpenImage */

/**
 * One stored item as a list entry, or null for item types this app does not show.
 * @param {any} item
 * @param {OpenImage} onOpenImage
 */
export function itemElement(item, onOpenImage) {
  if (item.type === 'message' && (item.role === 'user' || item.role === 'assistant')) {
    const bubble = messageElement(item.role, messageText(item));
    const urls = messageImageUrls(item);
    if (urls.length) {
      bubble.querySelector('.bubble')?.append(h('div', { class: 'attached-images' }, urls.map((url) => h('img', { src: url, alt: 'Attached image', loading: 'lazy' }))));
    }
    return bubble;
  }
  if (item.type === 'image_generation_call') return imageCallElement(item, onOpenImage);
  return null;
}

/** @param {'user'|'assistant'} role */
export function messageElement(role, text) {
  return h('li', { class: `message ${role}` },
    role === 'assistant' ? h('span', { class: 'avatar', 'aria-hidden': 'true' }, icon('sparkle')) : null,
    h('div', { class: 'bubble' },
      h('span', { class: 'visually-hidden', text: role === 'user' ? 'You:' : 'Assistant:' }),
      h('p', { class: 'message-text', text }),
    ),
  );
}

/** An assistant reply that fills in as it streams. */
export function streamingReply() {
  const el = messageElement('assistant', '');
  el.classList.add('streaming');
  el.setAttribute('aria-busy', 'true');
  const text = /** @type {HTMLElement} */ (el.querySelector('.message-text'));
  const typing = h('span', { class: 'typing', 'aria-label': 'Assistant is typing' }, h('span'), h('span'), h('span'));
  text.after(typing);
  return {
    el,
    /** @param {string} delta */
    append(delta) {
      typing.remove();
      text.textContent += delta;
    },
    get text() {
      return text.textContent ?? '';
    },
    /** @param {{stopped?: boolean}} [how] */
    finish({ stopped = false } = {}) {
      typing.remove();
      el.classList.remove('streaming');
      el.removeAttribute('aria-busy');
      if (stopped) text.after(h('span', { class: 'message-note', text: 'Stopped' }));
    },
  };
}

/** @param {any} item @param {OpenImage} onOpenImage */
function imageCallElement(item, onOpenImage) {
  const images = generatedImages(item);
  const failed = item.status && item.status !== 'completed' && images.length === 0;
  return h('li', { class: 'message image-call', 'data-item-id': item.id },
    h('figure', { class: 'image-card' },
      failed
        ? h('p', { class: 'image-status', text: `Image generation ${item.status === 'failed' ? 'failed' : 'did not finish'}.` })
        : h('ul', { class: `image-grid count-${Math.min(images.length, 4)}`, 'aria-label': 'Generated images' }, images.map((image, index) =>
          h('li', { class: 'image-tile' },
            h('button', { type: 'button', class: 'image-open', 'aria-label': `Enlarge image ${index + 1}${image.prompt ? `: ${image.prompt}` : ''}`, onclick: () => onOpenImage(image) },
              h('img', { src: image.url, alt: image.prompt ? `Generated image: ${image.prompt}` : 'Generated image', loading: 'lazy', class: `ratio-${ratioClass(image.size)}` }),
            ),
            h('a', { class: 'image-download icon-button small', href: image.url, download: downloadName(image), 'aria-label': `Download image ${index + 1}` }, icon('download')),
          ))),
      h('figcaption', {},
        h('span', { class: 'caption-prompt', text: item.prompt ?? '' }),
        h('span', { class: 'caption-meta', text: [item.size, item.model].filter(Boolean).join(' · ') }),
      ),
    ),
  );
}

/** A card that shows progress (and partial images) while images are being generated. */
export function pendingImageCard({ prompt, n, size }) {
  const preview = h('div', { class: `pending-preview ratio-${ratioClass(size)}` }, h('div', { class: 'shimmer', 'aria-hidden': 'true' }));
  const status = h('span', { class: 'pending-status', text: n === 1 ? 'Generating image…' : `Generating ${n} images…` });
  const el = h('li', { class: 'message image-call pending', 'aria-busy': 'true' },
    h('figure', { class: 'image-card' },
      preview,
      h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Image generation progress' }, h('span')),
      h('figcaption', {}, status, h('span', { class: 'caption-prompt', text: prompt })),
    ),
  );
  return {
    el,
    /** @param {string} url a data: URL of a partial image */
    showPartial(url, index) {
      const img = h('img', { src: url, alt: `Partial preview ${index + 1}`, class: 'partial-image' });
      preview.replaceChildren(img);
      status.textContent = `Refining… (preview ${index + 1})`;
    },
  };
}

function ratioClass(size) {
  if (size === '1792x1024') return 'wide';
  if (size === '1024x1792') return 'tall';
  return 'square';
}
