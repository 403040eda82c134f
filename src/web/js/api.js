// Authenticated calls to Easel's API. A 401 gets one token refresh and one retry.
import { ApiError, errorFromPayload, errorFromResponse, isAbort } from './errors.js';
import { readEvents } from './sse.js';

/** @type {import('./session.js').Session} */
let session;

export function useSession(value) {
  session = value;
}

/**
 * fetch with the bearer token; throws ApiError for any non-2xx answer.
 * @param {string} path
 * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [options]
 */
export async function request(path, { method = 'GET', body, signal } = {}) {
  const send = (token) =>
    fetch(path, {
      method,
      signal,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const token = await session.accessToken();
  let response = await send(token);
  if (response.status === 401) response = await send(await session.renewedToken(token));
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

async function json(path, options) {
  return (await request(path, options)).json();
}

/** Every page of a cursor-paginated list. */
async function allPages(path, params = {}) {
  const data = [];
  let after;
  for (;;) {
    const query = new URLSearchParams({ limit: '100', ...params, ...(after ? { after } : {}) });
    const page = await json(`${path}?${query}`);
    data.push(...page.data);
    if (!page.has_more || !page.last_id) return data;
    after = page.last_id;
  }
}

// ---- models ----

/** Chat and image models; a model that does not say what it does is taken for a chat model. */
export async function listModels() {
  const { data } = await json('/v1/models');
  const can = (model, capability) => Array.isArray(model.capabilities) ? model.capabilities.includes(capability) : capability === 'chat';
  return {
    chat: data.filter((m) => can(m, 'chat')),
    image: data.filter((m) => can(m, 'image_generation')),
  };
}

// ---- conversations ----

export const listConversations = () => allPages('/v1/conversations');
export const createConversation = (title) => json('/v1/conversations', { method: 'POST', body: { title } });
export const renameConversation = (id, title) => json(`/v1/conversations/${encodeURIComponent(id)}`, { method: 'POST', body: { title } });
export const deleteConversation = (id) => json(`/v1/conversations/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const listItems = (id) => allPages(`/v1/conversations/${encodeURIComponent(id)}/items`, { order: 'asc' });

// ---- chat ----

/**
 * Sends one user message into a conversation and yields the reply's text as it streams.
 * @param {{model: string, conversationId: string, content: string, signal: AbortSignal}} input
 * @returns {AsyncGenerator<string>}
 */
export async function* streamChat({ model, conversationId, content, signal }) {
  const response = await request('/v1/chat/completions', {
    method: 'POST',
    signal,
    body: { model, messages: [{ role: 'user', content }], conversation: { id: conversationId }, stream: true },
  });
  if (!isEventStream(response)) {
    // A server that answers with one JSON completion still gives a reply.
    const body = await response.json();
    yield body.choices?.[0]?.message?.content ?? '';
    return;
  }
  for await (const { data } of readEvents(response)) {
    if (data === '[DONE]') return;
    const chunk = parseJson(data);
    if (chunk?.error) throw errorFromPayload(chunk);
    const text = chunk?.choices?.[0]?.delta?.content;
    if (text) yield text;
  }
}

// ---- images ----

let imageStreamingRefused = false;

/**
 * Generates images into a conversation. With n=1 it streams partial images (as data URLs) to onPartial,
 * and falls back to a plain request when the server refuses streaming with a 400.
 * @param {{prompt: string, n: number, size: string, model?: string, conversationId: string, signal?: AbortSignal,
 *   onPartial?: (dataUrl: string, index: number) => void}} input
 */
export async function generateImages({ prompt, n, size, model, conversationId, signal, onPartial }) {
  const base = { prompt, n, size, conversation_id: conversationId, store: true, ...(model ? { model } : {}) };
  if (n === 1 && !imageStreamingRefused) {
    try {
      return await streamImage({ ...base, stream: true, partial_images: 2 }, signal, onPartial);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 400) || isAbort(error)) throw error;
      const result = await json('/v1/images/generations', { method: 'POST', signal, body: { ...base, response_format: 'url' } });
      imageStreamingRefused = true;
      return result;
    }
  }
  return json('/v1/images/generations', { method: 'POST', signal, body: { ...base, response_format: 'url' } });
}

async function streamImage(body, signal, onPartial) {
  const response = await request('/v1/images/generations', { method: 'POST', signal, body });
  if (!isEventStream(response)) return response.json();
  let completed = null;
  for await (const { event, data } of readEvents(response)) {
    if (data === '[DONE]') break;
    const payload = parseJson(data);
    if (!payload) continue;
    const type = payload.type ?? event;
    if (payload.error || type === 'error') throw errorFromPayload(payload);
    if (type === 'image_generation.partial_image' && payload.b64_json) {
      onPartial?.(dataUrl(payload), payload.partial_image_index ?? 0);
    } else if (type === 'image_generation.completed') {
      completed = payload;
    }
  }
  if (!completed) throw new ApiError('The image stream ended before the image was finished.');
  return completed;
}

function dataUrl(payload) {
  const format = payload.output_format === 'jpeg' || payload.output_format === 'webp' ? payload.output_format : 'png';
  return `data:image/${format};base64,${payload.b64_json}`;
}

function isEventStream(response) {
  return (response.headers.get('content-type') ?? '').includes('text/event-stream');
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
