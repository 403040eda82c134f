// Boots the app: guest session, models, conversation list, and the views behind the hash routes.
import { byId } from './dom.js';
import { Session } from './session.js';
import { deleteConversation, listConversations, listModels, renameConversation, useSession } from './api.js';
import { removeConversation, replaceConversation, setState } from './store.js';
import { currentRoute, navigate, newHref, startRouter } from './router.js';
import { setUpSidebar, setUserLabel } from './views/sidebar.js';
import { refreshTitle, setUpConversationView, showConversation } from './views/conversation.js';
import { setChatModels } from './views/chat-composer.js';
import { setImageModels } from './views/image-composer.js';
import { showGallery } from './views/gallery.js';
import { setUpLightbox } from './views/lightbox.js';
import { askText, confirmAction } from './views/dialogs.js';
import { showError, showInfo } from './views/notices.js';

const TITLE_MAX_LENGTH = 512;

const session = new Session();
useSession(session);
session.addEventListener('replaced', () => {
  showInfo('Your session had expired, so you are now signed in as a new guest.');
  void refreshConversations();
});
session.addEventListener('error', (event) => showError(/** @type {CustomEvent} */ (event).detail));

setUpLightbox();
setUpSidebar({ onRename: rename, onDelete: remove });
setUpConversationView({ onConversationsChanged: () => void refreshConversations() });
startRouter(openRoute);
void boot();

async function boot() {
  try {
    await session.accessToken();
    const tokens = session.read();
    if (tokens) setUserLabel(`Signed in as ${tokens.username}`);
  } catch (error) {
    showError(error);
  }
  await Promise.all([loadModels(), refreshConversations()]);
}

async function loadModels() {
  try {
    const models = await listModels();
    setState({ models });
    setChatModels(models.chat);
    setImageModels(models.image);
  } catch (error) {
    setChatModels([]);
    setImageModels([]);
    showError(error);
  }
}

async function refreshConversations() {
  try {
    setState({ conversations: await listConversations(), conversationsLoaded: true });
  } catch (error) {
    setState({ conversationsLoaded: true });
    showError(error);
  }
}

/** @param {import('./router.js').Route} route */
function openRoute(route) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('lightbox'));
  if (dialog.open) dialog.close();
  const inGallery = route.name === 'gallery';
  document.body.classList.toggle('route-gallery', inGallery);
  byId('gallery-view').hidden = !inGallery;
  byId('conversation-view').hidden = inGallery;
  byId('chat-model-picker').hidden = inGallery;
  if (inGallery) {
    setState({ activeConversationId: null });
    void showGallery();
    return;
  }
  const id = route.name === 'conversation' ? route.id : null;
  setState({ activeConversationId: id });
  refreshTitle();
  void showConversation(id);
}

async function rename(conversation) {
  const title = await askText({ title: 'Rename conversation', label: 'Title', value: conversation.title ?? '', confirmLabel: 'Rename', maxLength: TITLE_MAX_LENGTH });
  if (title === null || title === conversation.title) return;
  try {
    replaceConversation(await renameConversation(conversation.id, title));
    refreshTitle();
  } catch (error) {
    showError(error);
  }
}

async function remove(conversation) {
  const confirmed = await confirmAction({
    title: 'Delete conversation?',
    message: `“${conversation.title || 'Untitled'}” and everything in it will be deleted. This cannot be undone.`,
    confirmLabel: 'Delete',
    danger: true,
  });
  if (!confirmed) return;
  try {
    await deleteConversation(conversation.id);
    removeConversation(conversation.id);
    const route = currentRoute();
    if (route.name === 'conversation' && route.id === conversation.id) navigate(newHref);
    else if (route.name === 'gallery') void showGallery();
  } catch (error) {
    showError(error);
  }
}
