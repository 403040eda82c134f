// The image form: prompt, size, count and model; disabled while a generation runs.
import { byId, h, replaceChildren } from '../dom.js';
import { icon } from '../icons.js';
import { getPref, setPref } from '../prefs.js';

const SIZES = ['512x512', '1024x1024', '1792x1024', '1024x1792'];

/**
 * @param {{onGenerate: (request: {prompt: string, n: number, size: string, model: string}) => void}} handlers
 */
export function setUpImageComposer({ onGenerate }) {
  const form = /** @type {HTMLFormElement} */ (byId('image-form'));
  const prompt = /** @type {HTMLTextAreaElement} */ (byId('image-prompt'));
  const size = /** @type {HTMLSelectElement} */ (byId('image-size'));
  const count = /** @type {HTMLInputElement} */ (byId('image-count'));
  const model = /** @type {HTMLSelectElement} */ (byId('image-model'));
  byId('generate-button').replaceChildren(icon('image'), 'Generate');

  const savedSize = getPref('image-size', '1024x1024');
  if (SIZES.includes(savedSize)) size.value = savedSize;
  size.addEventListener('change', () => setPref('image-size', size.value));
  model.addEventListener('change', () => setPref('image-model', model.value));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text || form.getAttribute('aria-busy') === 'true') return;
    const n = Math.min(10, Math.max(1, Math.round(Number(count.value) || 1)));
    count.value = String(n);
    onGenerate({ prompt: text, n, size: size.value, model: model.value });
  });
  prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

/** @param {Array<{id: string}>} models */
export function setImageModels(models) {
  const select = /** @type {HTMLSelectElement} */ (byId('image-model'));
  const saved = getPref('image-model', '');
  replaceChildren(select, models.length
    ? models.map((m) => h('option', { value: m.id, text: m.id }))
    : h('option', { value: '', text: 'Server default' }));
  if (models.some((m) => m.id === saved)) select.value = saved;
}

export function setImagePrompt(text) {
  /** @type {HTMLTextAreaElement} */ (byId('image-prompt')).value = text;
}

export function setImageBusy(busy) {
  const form = byId('image-form');
  const button = /** @type {HTMLButtonElement} */ (byId('generate-button'));
  form.setAttribute('aria-busy', String(busy));
  button.disabled = busy;
  button.replaceChildren(busy ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : icon('image'), busy ? 'Generating…' : 'Generate');
}
