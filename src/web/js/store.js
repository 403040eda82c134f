// App-wide state the views share, with change notifications. Views own their own local state.

/**
 * @typedef {{
 *   conversations: Array<{id: string, title: string|null, created_at: number, updated_at: number}>,
 *   conversationsLoaded: boolean,
 *   activeConversationId: string|null,
 *   models: {chat: Array<{id: string}>, image: Array<{id: string}>},
 *   user: {id: string, name: string}|null,
 * }} State
 */

/** @type {State} */
let state = {
  conversations: [],
  conversationsLoaded: false,
  activeConversationId: null,
  models: { chat: [], image: [] },
  user: null,
};

const listeners = new Set();

export function getState() {
  return state;
}

/** @param {Partial<State>} patch */
export function setState(patch) {
  state = { ...state, ...patch };
  for (const listener of listeners) listener(state);
}

/** @param {(state: State) => void} listener */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Puts a conversation first (it was just created or used) or updates it in place. */
export function upsertConversation(conversation) {
  const others = state.conversations.filter((c) => c.id !== conversation.id);
  setState({ conversations: [conversation, ...others] });
}

export function replaceConversation(conversation) {
  setState({ conversations: state.conversations.map((c) => (c.id === conversation.id ? conversation : c)) });
}

export function removeConversation(id) {
  setState({ conversations: state.conversations.filter((c) => c.id !== id) });
}
