// The conversation view: loads its history, sends chat messages (streamed) and generates images into it.
import { byId, replaceChildren } from '../dom.js';
import { createConversation, deleteConversation, generateImages, listItems, streamChat } from '../api.js';
import { ApiError, isAbort } from '../errors.js';
import { titleFrom } from '../items.js';
import { getState, removeConversation, setState, subscribe, upsertConversation } from '../store.js';
import { conversationHref, navigate, newHref } from '../router.js';
import { itemElement, messageElement, pendingImageCard, streamingReply } from './messages.js';
import { chatInput, selectedChatModel, setChatBusy, setChatText, setUpChatComposer } from './chat-composer.js';
import { setImageBusy, setImagePrompt, setUpImageComposer } from './image-composer.js';
import { setUpComposerTabs } from './composer-tabs.js';
import { openLightbox } from './lightbox.js';
import { showError } from './notices.js';

/** Within this many pixels of the bottom, new content keeps the view pinned to the bottom. */
const STICKY_BOTTOM_PX = 120;

/**
 * What the view shows. `visit` changes on every (re)open, so work started on an earlier visit
 * finishes quietly instead of drawing into the conversation on screen now.
 */
const view = { conversationId: /** @type {string|null} */ (null), visit: 0, loaded: false, loading: false, title: /** @type {string|null} */ (null) };

/** The reply streaming on this visit, if any. */
let chat = /** @type {{controller: AbortController, visit: number}|null} */ (null);

/** @param {{onConversationsChanged: () => void}} options */
export function setUpConversationView({ onConversationsChanged }) {
  setUpComposerTabs();
  setUpChatComposer({ onSend: (text) => void send(text, onConversationsChanged), onStop: () => chat?.controller.abort() });
  setUpImageComposer({ onGenerate: (request) => void generate(request, onConversationsChanged) });
  subscribe(updateTitle);
}

/** Opens a conversation (or a blank new one for null); a no-op when it is already open. */
export async function showConversation(conversationId) {
  if (conversationId === view.conversationId && (view.loaded || conversationId === null)) return;
  const visit = ++view.visit;
  Object.assign(view, { conversationId, loaded: false, loading: false, title: null });
  chat = null;
  setChatBusy(false);
  setImageBusy(false);
  replaceChildren(byId('messages'));
  updateTitle();
  setEmpty(conversationId === null);
  if (conversationId === null) {
    view.loaded = true;
    return;
  }
  await loadItems(conversationId, visit);
}

async function loadItems(conversationId, visit) {
  const loading = byId('items-loading');
  loading.hidden = false;
  view.loading = true;
  try {
    const items = await listItems(conversationId);
    if (visit !== view.visit) return;
    renderItems(items);
    view.loaded = true;
    scrollToBottom({ force: true });
  } catch (error) {
    if (visit !== view.visit) return;
    if (error instanceof ApiError && error.status === 404) {
      showError(new ApiError('That conversation no longer exists. It may have been deleted.'));
      navigate(newHref);
    } else {
      showError(error);
    }
  } finally {
    if (visit === view.visit) {
      loading.hidden = true;
      view.loading = false;
    }
  }
}

function renderItems(items) {
  const elements = items.map((item) => itemElement(item, openLightbox)).filter((el) => el !== null);
  replaceChildren(byId('messages'), elements);
  setEmpty(elements.length === 0);
}

/**
 * The open conversation, created (titled after the first words) when there is none yet.
 * @returns {Promise<{id: string, isNew: boolean}>}
 */
async function ensureConversation(firstText) {
  if (view.conversationId) return { id: view.conversationId, isNew: false };
  const conversation = await createConversation(titleFrom(firstText));
  Object.assign(view, { conversationId: conversation.id, loaded: true });
  upsertConversation(conversation);
  setState({ activeConversationId: conversation.id });
  navigate(conversationHref(conversation.id));
  return { id: conversation.id, isNew: true };
}

/** A conversation made for a first request that then failed holds nothing: remove it rather than leave an empty one. */
async function discardNewConversation(id) {
  try {
    await deleteConversation(id);
  } catch {
    // Best effort: at worst an empty conversation stays in the list.
  }
  removeConversation(id);
  if (view.conversationId === id) navigate(newHref);
}

async function send(text, onConversationsChanged) {
  // The history about to be drawn would replace the new turn: wait until it is on screen.
  if (view.loading) return;
  const model = selectedChatModel();
  if (!model) {
    showError(new ApiError('No chat model is available on this server.'));
    return;
  }
  const visit = view.visit;
  setChatText('');
  let conversation;
  try {
    conversation = await ensureConversation(text);
  } catch (error) {
    setChatText(text);
    showError(error);
    return;
  }
  const question = messageElement('user', text);
  const reply = streamingReply();
  byId('messages').append(question, reply.el);
  setEmpty(false);
  scrollToBottom({ force: true });

  const controller = new AbortController();
  chat = { controller, visit };
  setChatBusy(true);
  try {
    for await (const delta of streamChat({ model, conversationId: conversation.id, content: text, signal: controller.signal })) {
      const pinned = isNearBottom();
      reply.append(delta);
      if (pinned) scrollToBottom({ force: true });
    }
    reply.finish();
  } catch (error) {
    if (isAbort(error)) {
      reply.finish({ stopped: true });
    } else if (reply.text) {
      reply.finish({ stopped: true });
      showError(error);
    } else {
      // Nothing came back: take the message back so it can be sent again.
      question.remove();
      reply.el.remove();
      if (visit === view.visit && !chatInput().value) setChatText(text);
      if (visit === view.visit) setEmpty(byId('messages').childElementCount === 0);
      if (conversation.isNew) await discardNewConversation(conversation.id);
      showError(error);
    }
  } finally {
    if (chat?.controller === controller) chat = null;
    if (visit === view.visit) setChatBusy(false);
    onConversationsChanged();
  }
}

async function generate({ prompt, n, size, model }, onConversationsChanged) {
  if (view.loading) return;
  const visit = view.visit;
  setImagePrompt('');
  let conversation;
  try {
    conversation = await ensureConversation(prompt);
  } catch (error) {
    setImagePrompt(prompt);
    showError(error);
    return;
  }
  const request = messageElement('user', prompt);
  const card = pendingImageCard({ prompt, n, size });
  byId('messages').append(request, card.el);
  setEmpty(false);
  scrollToBottom({ force: true });
  setImageBusy(true);
  let generated = false;
  try {
    await generateImages({
      prompt, n, size, model, conversationId: conversation.id,
      onPartial: (url, index) => {
        card.showPartial(url, index);
        scrollToBottom();
      },
    });
    generated = true;
  } catch (error) {
    request.remove();
    card.el.remove();
    if (visit === view.visit) {
      setImagePrompt(prompt);
      setEmpty(byId('messages').childElementCount === 0);
    }
    if (conversation.isNew) await discardNewConversation(conversation.id);
    showError(error);
  } finally {
    if (visit === view.visit) setImageBusy(false);
    onConversationsChanged();
  }
  // The stored items carry fresh signed URLs; show those rather than what the response held.
  if (generated && visit === view.visit) await reloadAfterGeneration(conversation.id, visit);
}

async function reloadAfterGeneration(conversationId, visit) {
  try {
    const items = await listItems(conversationId);
    if (visit !== view.visit) return;
    renderItems(items);
    scrollToBottom({ force: true });
  } catch (error) {
    showError(error);
  }
}

function updateTitle() {
  if (byId('conversation-view').hidden) return;
  const conversation = getState().conversations.find((c) => c.id === view.conversationId);
  // Kept when the conversation leaves the list (deleted elsewhere), so the header does not go blank.
  if (conversation) view.title = conversation.title || 'Untitled';
  const title = view.conversationId ? view.title ?? 'Untitled' : 'New conversation';
  byId('view-title').textContent = title;
  document.title = `${title} · Easel`;
}

function setEmpty(empty) {
  byId('empty-state').hidden = !empty;
}

function isNearBottom() {
  const scroller = byId('scroller');
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICKY_BOTTOM_PX;
}

function scrollToBottom({ force = false } = {}) {
  if (!force && !isNearBottom()) return;
  const scroller = byId('scroller');
  scroller.scrollTop = scroller.scrollHeight;
}

/** Called when the view becomes visible again (e.g. back from the gallery). */
export function refreshTitle() {
  updateTitle();
}
