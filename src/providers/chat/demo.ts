// The built-in demo chat model: in-process and deterministic, so the guide can be walked with no provider.
// It answers about the conversation it is given (messages, the last question, images made), in OpenAI's shapes.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { notFound } from '../../lib/errors.ts';
import { ulid } from '../../lib/ids.ts';
import { nowSeconds } from '../../lib/time.ts';
import type { ModelInfo } from '../models.ts';
import { generatedImagePrompts } from './image-notes.ts';
import type { ChatMessage, ChatParams, ChatProvider, ChatRequest, Completion } from './provider.ts';
import { DONE_EVENT } from './stream.ts';

export const DEMO_CHAT_MODEL = 'easel-demo-chat';

// A fixed date keeps the listing deterministic.
const CREATED = 1_735_689_600;

interface Reply {
  words: string[];
  finishReason: 'stop' | 'length';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export class DemoChat implements ChatProvider {
  async listModels(): Promise<ModelInfo[]> {
    return [{ id: DEMO_CHAT_MODEL, object: 'model', created: CREATED, owned_by: 'easel', capabilities: ['chat'] }];
  }

  async complete(request: ChatRequest): Promise<Completion> {
    const reply = answer(request.params);
    const body = {
      id: `chatcmpl-${ulid()}`,
      object: 'chat.completion',
      created: nowSeconds(),
      model: DEMO_CHAT_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.words.join(''), refusal: null }, logprobs: null, finish_reason: reply.finishReason }],
      usage: reply.usage,
      system_fingerprint: 'easel-demo',
    };
    return { body };
  }

  async stream(request: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const reply = answer(request.params);
    const options = request.params.stream_options as { include_usage?: unknown } | undefined;
    return chunks(reply, options?.include_usage === true, signal);
  }
}

async function* chunks(reply: Reply, includeUsage: boolean, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const head = { id: `chatcmpl-${ulid()}`, object: 'chat.completion.chunk', created: nowSeconds(), model: DEMO_CHAT_MODEL, system_fingerprint: 'easel-demo' };
  const usage = includeUsage ? { usage: null } : {};
  const event = (body: object) => Buffer.from(`data: ${JSON.stringify({ ...head, ...body })}\n\n`);
  const choice = (delta: object, finishReason: string | null) => ({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usage });

  yield event(choice({ role: 'assistant', content: '', refusal: null }, null));
  for (const word of reply.words) {
    // One word per turn of the event loop, so the stream really is incremental and can be cut off.
    await nextTurn();
    signal.throwIfAborted();
    yield event(choice({ content: word }, null));
  }
  yield event(choice({}, reply.finishReason));
  if (includeUsage) yield event({ choices: [], usage: reply.usage });
  yield Buffer.from(DONE_EVENT);
}

function answer(params: ChatParams): Reply {
  if (params.model !== undefined && params.model !== DEMO_CHAT_MODEL) {
    throw notFound(`The model '${params.model}' does not exist. Without LLM_PROVIDER_URL, Easel offers only '${DEMO_CHAT_MODEL}'.`, 'model');
  }
  const text = compose(params.messages);
  const words = text.match(/\S+\s*/g) ?? [];
  // Roughly OpenAI's token accounting: a word is about one token, four characters of prompt about one.
  const limit = firstNumber(params.max_completion_tokens, params.max_tokens);
  const kept = limit !== undefined && limit < words.length ? words.slice(0, Math.max(1, limit)) : words;
  if (kept.length > 0) kept[kept.length - 1] = kept[kept.length - 1]!.trimEnd();
  const promptTokens = Math.ceil(params.messages.reduce((n, m) => n + textOf(m).length, 0) / 4);
  return {
    words: kept,
    finishReason: kept.length < words.length ? 'length' : 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: kept.length, total_tokens: promptTokens + kept.length },
  };
}

function compose(messages: ChatMessage[]): string {
  const texts = messages.map(textOf);
  const fromUser = messages.filter((m) => m.role === 'user');
  const last = fromUser.length > 0 ? textOf(fromUser[fromUser.length - 1]!).trim() : '';
  const prompts = texts.flatMap(generatedImagePrompts);

  const parts: string[] = [];
  // The introduction once, on the first turn.
  if (!messages.some((m) => m.role === 'assistant')) {
    parts.push("Hi! I'm Easel's built-in demo chat model: no LLM provider is configured (set LLM_PROVIDER_URL to use a real one).");
  }
  const size = `${count(messages.length, 'message')} so far, ${fromUser.length} from you`;
  parts.push(last ? `You said: "${clip(last, 200)}" (this conversation has ${size}).` : `This conversation has ${size}.`);
  if (prompts.length > 0) {
    parts.push(`${count(prompts.length, 'image has', 'images have')} been generated in it, the latest for "${clip(prompts[prompts.length - 1]!, 120)}".`);
  } else {
    parts.push('No images have been generated here yet: try POST /v1/images/generations with a conversation_id.');
  }
  return parts.join(' ');
}

function textOf(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join(' ');
}

function firstNumber(...values: unknown[]): number | undefined {
  return values.find((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
