// Modal prompts (rename, confirm) on the native <dialog>: focus is trapped and Escape cancels.
import { h } from '../dom.js';

/**
 * Asks for one line of text. Resolves with the trimmed text, or null when cancelled.
 * @param {{title: string, label: string, value?: string, confirmLabel?: string, maxLength?: number}} options
 * @returns {Promise<string|null>}
 */
export function askText({ title, label, value = '', confirmLabel = 'Save', maxLength }) {
  const input = /** @type {HTMLInputElement} */ (h('input', { type: 'text', id: 'dialog-text', name: 'text', required: true, autocomplete: 'off', maxlength: maxLength }));
  input.value = value;
  return openDialog(title, [h('label', { for: 'dialog-text', text: label }), input], confirmLabel, 'primary', () => input.value.trim() || null, () => input.select());
}

/**
 * Asks to confirm an action.
 * @param {{title: string, message: string, confirmLabel: string, danger?: boolean}} options
 * @returns {Promise<boolean>}
 */
export async function confirmAction({ title, message, confirmLabel, danger = false }) {
  const answer = await openDialog(title, [h('p', { text: message })], confirmLabel, danger ? 'danger' : 'primary', () => true);
  return answer === true;
}

function openDialog(title, body, confirmLabel, confirmKind, valueOf, afterOpen = () => {}) {
  const returnFocus = document.activeElement;
  const titleId = `dialog-title-${Date.now()}`;
  const form = h('form', { method: 'dialog', class: 'dialog-form' },
    h('h2', { id: titleId, text: title }),
    body,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', value: 'cancel', onclick: () => dialog.close('cancel'), text: 'Cancel' }),
      h('button', { type: 'submit', class: `button ${confirmKind}`, value: 'confirm', text: confirmLabel }),
    ),
  );
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'prompt-dialog', 'aria-labelledby': titleId }, form));
  document.body.append(dialog);
  return new Promise((resolve) => {
    let result = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      result = valueOf();
      if (result !== null) dialog.close('confirm');
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
      resolve(dialog.returnValue === 'confirm' ? result : null);
    });
    dialog.showModal();
    afterOpen();
  });
}
