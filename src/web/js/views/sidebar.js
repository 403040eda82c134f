// The conversation list (open, rename, delete) and, on narrow screens, the drawer it lives in.
import { byId, h, replaceChildren } from '../dom.js';
import { icon } from '../icons.js';
import { getState, subscribe } from '../store.js';
import { conversationHref } from '../router.js';

const NARROW = window.matchMedia('(max-width: 860px)');

/**
 * @param {{onRename: (conversation: object) => void, onDelete: (conversation: object) => void}} actions
 */
export function setUpSidebar(actions) {
  byId('new-conversation').replaceChildren(icon('plus'), 'New conversation');
  byId('gallery-link').replaceChildren(icon('gallery'), 'Gallery');
  byId('menu-button').replaceChildren(icon('menu'));
  byId('sidebar-close').replaceChildren(icon('close'));

  byId('menu-button').addEventListener('click', openDrawer);
  byId('sidebar-close').addEventListener('click', () => closeDrawer());
  byId('backdrop').addEventListener('click', () => closeDrawer());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.classList.contains('drawer-open') && !document.querySelector('dialog[open]')) closeDrawer();
  });
  // Following a link in the drawer means the user is done with it: focus goes to what it opened.
  byId('sidebar').addEventListener('click', (event) => {
    if (!(event.target instanceof Element && event.target.closest('a'))) return;
    const wasOpen = document.body.classList.contains('drawer-open');
    closeDrawer({ restoreFocus: false });
    if (wasOpen) byId('main').focus({ preventScroll: true });
  });
  NARROW.addEventListener('change', () => closeDrawer({ restoreFocus: false }));
  syncDrawerSemantics();

  subscribe((state) => render(state, actions));
  render(getState(), actions);
}

function render(state, actions) {
  const list = byId('conversation-list');
  if (!state.conversationsLoaded) {
    replaceChildren(list, h('li', { class: 'conversation-placeholder' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading…'));
    return;
  }
  if (state.conversations.length === 0) {
    replaceChildren(list, h('li', { class: 'conversation-placeholder', text: 'No conversations yet.' }));
    return;
  }
  replaceChildren(list, state.conversations.map((conversation) => {
    const title = conversation.title || 'Untitled';
    const active = conversation.id === state.activeConversationId;
    return h('li', { class: `conversation${active ? ' active' : ''}`, 'data-conversation-id': conversation.id },
      h('a', { class: 'conversation-link', href: conversationHref(conversation.id), 'aria-current': active ? 'page' : null, title, text: title }),
      h('div', { class: 'conversation-actions' },
        h('button', { type: 'button', class: 'icon-button small', 'aria-label': `Rename “${title}”`, onclick: () => actions.onRename(conversation) }, icon('pencil')),
        h('button', { type: 'button', class: 'icon-button small', 'aria-label': `Delete “${title}”`, onclick: () => actions.onDelete(conversation) }, icon('trash')),
      ),
    );
  }));
}

export function setUserLabel(text) {
  byId('user-label').textContent = text;
}

function openDrawer() {
  document.body.classList.add('drawer-open');
  byId('backdrop').hidden = false;
  byId('menu-button').setAttribute('aria-expanded', 'true');
  syncDrawerSemantics();
  byId('new-conversation').focus();
}

function closeDrawer({ restoreFocus = true } = {}) {
  const wasOpen = document.body.classList.contains('drawer-open');
  document.body.classList.remove('drawer-open');
  byId('backdrop').hidden = true;
  byId('menu-button').setAttribute('aria-expanded', 'false');
  syncDrawerSemantics();
  if (wasOpen && restoreFocus && NARROW.matches) byId('menu-button').focus();
}

/** Only one of drawer and page is usable at a time: keep keyboard and screen readers out of the other. */
function syncDrawerSemantics() {
  const open = document.body.classList.contains('drawer-open');
  byId('sidebar').inert = NARROW.matches && !open;
  /** @type {HTMLElement} */ (document.querySelector('.main-column')).inert = NARROW.matches && open;
}
