// The message box: Enter sends, Shift+Enter breaks the line, and Send turns into Stop while a reply streams.
import { byId, h, replaceChildren } from '../dom.js';
import { icon } from '../icons.js';
import { getPref, setPref } from '../prefs.js';

const MAX_HEIGHT_PX = 220;

/**
 * @param {{onSend: (text: string) => void, onStop: () => void}} handlers
 */
export function setUpChatComposer({ onSend, onStop }) {
  const form = /** @type {HTMLFormElement} */ (byId('chat-form'));
  const input = /** @type {HTMLTextAreaElement} */ (byId('chat-input'));
  byId('send-button').replaceChildren(icon('send'), 'Send');
  byId('stop-button').replaceChildren(icon('stop'), 'Stop');

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text && !isBusy()) onSend(text);
  });
  input.addEventListener('keydown', (event) => {
    // isComposing: Enter that confirms an IME composition must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => autosize(input));
  byId('stop-button').addEventListener('click', onStop);
  byId('chat-model').addEventListener('change', (event) => setPref('chat-model', /** @type {HTMLSelectElement} */ (event.target).value));
}

export function chatInput() {
  return /** @type {HTMLTextAreaElement} */ (byId('chat-input'));
}

export function setChatText(text) {
  const input = chatInput();
  input.value = text;
  autosize(input);
}

function isBusy() {
  return !byId('stop-button').hidden;
}

/** While a reply streams, Stop replaces Send (and keeps the focus if Send had it). */
export function setChatBusy(busy) {
  const send = byId('send-button');
  const stop = byId('stop-button');
  const hadFocus = document.activeElement === (busy ? send : stop);
  send.hidden = busy;
  stop.hidden = !busy;
  if (hadFocus) (busy ? stop : send).focus();
}

function autosize(input) {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT_PX)}px`;
}

/** Fills the chat model picker (in the top bar), keeping the user's last pick when it still exists. */
export function setChatModels(models) {
  const select = /** @type {HTMLSelectElement} */ (byId('chat-model'));
  const saved = getPref('chat-model', '');
  replaceChildren(select, models.length
    ? models.map((m) => h('option', { value: m.id, text: m.id }))
    : h('option', { value: '', text: 'No chat models' }));
  select.disabled = models.length === 0;
  if (models.some((m) => m.id === saved)) select.value = saved;
}

export function selectedChatModel() {
  return /** @type {HTMLSelectElement} */ (byId('chat-model')).value;
}
