// Small choices remembered between visits (model picks, composer mode, image size).
const PREFIX = 'easel.pref.';

export function getPref(name, fallback) {
  try {
    return window.localStorage.getItem(PREFIX + name) ?? fallback;
  } catch {
    return fallback;
  }
}

export function setPref(name, value) {
  try {
    window.localStorage.setItem(PREFIX + name, String(value));
  } catch {
    // Storage full or disabled: the choice just isn't remembered.
  }
}
