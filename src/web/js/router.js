// Hash routes, so the server only ever serves one page: #/ (new), #/c/<conversation id>, #/gallery.

/** @typedef {{name: 'new'} | {name: 'conversation', id: string} | {name: 'gallery'}} Route */

/** @returns {Route} */
export function currentRoute() {
  const hash = window.location.hash.replace(/^#/, '');
  const conversation = /^\/c\/([A-Za-z0-9_-]{1,100})$/.exec(hash);
  if (conversation) return { name: 'conversation', id: conversation[1] };
  if (hash === '/gallery') return { name: 'gallery' };
  return { name: 'new' };
}

export const conversationHref = (id) => `#/c/${encodeURIComponent(id)}`;
export const galleryHref = '#/gallery';
export const newHref = '#/';

export function navigate(href) {
  if (window.location.hash !== href) window.location.hash = href;
}

/** @param {(route: Route) => void} onRoute */
export function startRouter(onRoute) {
  window.addEventListener('hashchange', () => onRoute(currentRoute()));
  onRoute(currentRoute());
}
