// Every image the user generated, across conversations; a click enlarges it.
import { byId, h, replaceChildren } from '../dom.js';
import { allImages } from '../library.js';
import { conversationHref } from '../router.js';
import { openLightbox } from './lightbox.js';
import { showError } from './notices.js';

let visit = 0;

export async function showGallery() {
  const current = ++visit;
  byId('view-title').textContent = 'Gallery';
  document.title = 'Gallery · Easel';
  const grid = byId('gallery-grid');
  const loading = byId('gallery-loading');
  const empty = byId('gallery-empty');
  empty.hidden = true;
  loading.hidden = false;
  grid.setAttribute('aria-busy', 'true');
  try {
    const images = await allImages();
    if (current !== visit) return;
    empty.hidden = images.length > 0;
    replaceChildren(grid, images.map((image, index) =>
      h('li', { class: 'gallery-item' },
        h('button', { type: 'button', class: 'image-open', 'aria-label': `Enlarge image ${index + 1}: ${image.prompt}`, onclick: () => openLightbox(image) },
          h('img', { src: image.url, alt: `Generated image: ${image.prompt}`, loading: 'lazy' }),
        ),
        h('div', { class: 'gallery-caption' },
          h('p', { class: 'caption-prompt', text: image.prompt, title: image.prompt }),
          h('a', { href: conversationHref(image.conversationId), class: 'caption-link', text: image.conversationTitle }),
        ),
      )));
  } catch (error) {
    if (current === visit) showError(error);
  } finally {
    if (current === visit) {
      loading.hidden = true;
      grid.removeAttribute('aria-busy');
    }
  }
}
