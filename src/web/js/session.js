// The guest session: signs in on its own, keeps the tokens in localStorage and refreshes them
// before they expire. Refresh tokens rotate, so one refresh runs at a time, and a pair another
// tab already rotated is taken from storage instead of reusing the old one.
import { errorFromResponse, readableError } from './errors.js';

const STORAGE_KEY = 'easel.session';
const REFRESH_BEFORE_EXPIRY_MS = 60_000;

/**
 * @typedef {{access_token: string, refresh_token: string, expires_at: number, user_id: string, username: string}} Tokens
 */

export class Session extends EventTarget {
  /** @type {Promise<Tokens>|null} */
  #pending = null;
  #timer = 0;

  constructor(storage = window.localStorage) {
    super();
    this.storage = storage;
    // Another tab signed in or refreshed: follow it rather than racing it.
    window.addEventListener('storage', (event) => {
      if (event.key === STORAGE_KEY) this.#schedule(this.read());
    });
  }

  /** @returns {Tokens|null} */
  read() {
    try {
      const tokens = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? 'null');
      return tokens && typeof tokens.access_token === 'string' && typeof tokens.refresh_token === 'string' ? tokens : null;
    } catch {
      return null;
    }
  }

  /** A usable access token: signs in or refreshes first when needed. */
  async accessToken() {
    const tokens = this.read();
    if (!tokens) return (await this.#once(() => this.#login())).access_token;
    if (tokens.expires_at - Date.now() < REFRESH_BEFORE_EXPIRY_MS) return (await this.refresh()).access_token;
    this.#schedule(tokens);
    return tokens.access_token;
  }

  /**
   * A token to retry with after `stale` was refused: the one already renewed meanwhile (by a concurrent
   * call or another tab), else a refreshed one.
   */
  async renewedToken(stale) {
    const current = this.read();
    if (current && current.access_token !== stale && !this.#pending) return current.access_token;
    return (await this.refresh()).access_token;
  }

  /** Exchanges the refresh token for a new pair (at most one exchange in flight). */
  refresh() {
    return this.#once(() => this.#refresh());
  }

  #once(run) {
    this.#pending ??= run().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #login() {
    const response = await postJson('/auth/guest-login', {});
    if (!response.ok) throw await errorFromResponse(response);
    return this.#store(await response.json());
  }

  async #refresh() {
    const current = this.read();
    if (!current) return this.#login();
    const response = await postJson('/auth/refresh-token', { refresh_token: current.refresh_token });
    if (response.ok) return this.#store(await response.json());
    const latest = this.read();
    if (latest && latest.refresh_token !== current.refresh_token) return latest;
    if (response.status === 400 || response.status === 401) {
      // The session is gone for good (revoked or expired): start a fresh guest session.
      const tokens = await this.#login();
      this.dispatchEvent(new CustomEvent('replaced', { detail: tokens }));
      return tokens;
    }
    throw await errorFromResponse(response);
  }

  /** @returns {Tokens} */
  #store(body) {
    const tokens = {
      access_token: body.access_token,
      refresh_token: body.refresh_token,
      expires_at: Date.now() + Number(body.expires_in ?? 3600) * 1000,
      user_id: body.user_id,
      username: body.username ?? body.user_id,
    };
    this.storage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    this.#schedule(tokens);
    return tokens;
  }

  #schedule(tokens) {
    clearTimeout(this.#timer);
    if (!tokens) return;
    const delay = Math.max(0, tokens.expires_at - Date.now() - REFRESH_BEFORE_EXPIRY_MS);
    // Timers past ~24 days overflow; a long-lived token is simply checked again on next use.
    if (delay > 2 ** 31 - 1) return;
    this.#timer = window.setTimeout(() => {
      this.refresh().catch((error) => this.dispatchEvent(new CustomEvent('error', { detail: readableError(error) })));
    }, delay);
  }
}

function postJson(url, body) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
