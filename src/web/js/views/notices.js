// Readable error (and info) messages above the current view. Errors never leave a blank screen.
import { byId, h } from '../dom.js';
import { icon } from '../icons.js';
import { readableError } from '../errors.js';

const MAX_VISIBLE = 3;

/** Shows an error's message; the same message is not stacked twice. */
export function showError(error) {
  const { message } = readableError(error);
  show(message, 'error');
}

export function showInfo(message) {
  show(message, 'info');
}

export function clearNotices() {
  byId('notices').replaceChildren();
}

function show(message, kind) {
  const container = byId('notices');
  for (const existing of container.querySelectorAll('.notice-text')) {
    if (existing.textContent === message) existing.closest('.notice')?.remove();
  }
  const notice = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('p', { class: 'notice-text', text: message }),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss message', onclick: () => notice.remove() }, icon('close')),
  );
  container.append(notice);
  while (container.children.length > MAX_VISIBLE) container.firstElementChild?.remove();
}
