// The Chat / Image switch above the composer: an ARIA tab list (arrow keys move between tabs).
import { byId } from '../dom.js';
import { getPref, setPref } from '../prefs.js';

/** @type {Array<{tab: string, panel: string, focus: string, mode: 'chat'|'image'}>} */
const TABS = [
  { tab: 'tab-chat', panel: 'chat-form', focus: 'chat-input', mode: 'chat' },
  { tab: 'tab-image', panel: 'image-form', focus: 'image-prompt', mode: 'image' },
];

export function setUpComposerTabs() {
  for (const [index, entry] of TABS.entries()) {
    const tab = byId(entry.tab);
    tab.addEventListener('click', () => select(entry.mode, { focusPanel: true }));
    tab.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      event.preventDefault();
      const next = TABS[(index + step + TABS.length) % TABS.length];
      select(next.mode);
      byId(next.tab).focus();
    });
  }
  select(getPref('composer', 'chat') === 'image' ? 'image' : 'chat');
}

/** @param {'chat'|'image'} mode */
export function select(mode, { focusPanel = false } = {}) {
  for (const entry of TABS) {
    const selected = entry.mode === mode;
    const tab = byId(entry.tab);
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    byId(entry.panel).hidden = !selected;
    if (selected && focusPanel) byId(entry.focus).focus();
  }
  setPref('composer', mode);
}
