// Chat completions with conversation memory: the history goes upstream before the new messages, and a
// successful turn (the new user messages and the reply) is appended in one transaction unless store is false.
import { ApiError, notFound, providerError } from '../lib/errors.ts';
import { ChatRequest, type ChatParams, type ChatProvider } from '../providers/chat/provider.ts';
import { DONE_EVENT, ReplyCollector, SseDataReader, type TokenUsage } from '../providers/chat/stream.ts';
import { assistantItem, historyToMessages, replyText, userItems } from './chat-messages.ts';
import type { ConversationsService } from './conversations.ts';
import type { ItemData, ItemStatus } from './items.ts';
import type { UsageService } from './usage.ts';

/** OpenAI's request plus Easel's own fields, which never go upstream. */
export interface ChatCompletionInput extends ChatParams {
  conversation?: string | { id: string };
  /** Whether the turn is saved to the conversation; default true. */
  store?: boolean;
}

interface Turn {
  request: ChatRequest;
  conversationId?: string;
  /** The user messages to save with the reply; undefined when nothing is saved. */
  userItems?: ItemData[];
}

const DONE = Buffer.from(DONE_EVENT);

export class ChatService {
  private readonly provider: ChatProvider;
  private readonly conversations: ConversationsService;
  private readonly usage: UsageService | undefined;

  constructor(deps: { provider: ChatProvider; conversations: ConversationsService; usage?: UsageService }) {
    this.provider = deps.provider;
    this.conversations = deps.conversations;
    this.usage = deps.usage;
  }

  /** Counts the upstream's reported tokens for the user. Off the response path: a failed write costs no answer. */
  private countTokens(userId: string, model: unknown, usage: TokenUsage | null | undefined): void {
    if (!this.usage || !usage) return;
    void this.usage.recordTokens(userId, typeof model === 'string' ? model : 'default', usage.prompt_tokens, usage.completion_tokens).catch(() => undefined);
  }

  /**
   * A non-stream completion: OpenAI's body plus `conversation: {id}` when one was used. Without a
   * conversation the upstream's bytes are returned as they came, to be sent on without re-serialising.
   * `rawJson` is the request body as the client sent it.
   */
  async complete(userId: string, input: ChatCompletionInput, rawJson?: string): Promise<Buffer | object> {
    const turn = await this.prepare(userId, input, rawJson);
    const completion = await this.provider.complete(turn.request);
    this.countTokens(userId, completion.body.model ?? input.model, completion.body.usage as TokenUsage | undefined);
    if (turn.conversationId === undefined) return completion.bytes ?? completion.body;
    await this.save(turn, replyText(completion.body), 'completed');
    return { ...completion.body, conversation: { id: turn.conversationId } };
  }

  /**
   * A streamed completion: resolves when the upstream has accepted the request (errors before then are
   * ordinary ApiErrors), with the SSE bytes to relay as they arrive, ending with `data: [DONE]`. The turn is
   * saved when the stream ends; when `signal` aborts (the client left), what arrived is saved as incomplete.
   * If the upstream breaks, iteration throws a provider_error and nothing is saved.
   */
  async stream(userId: string, input: ChatCompletionInput, rawJson: string | undefined, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const turn = await this.prepare(userId, input, rawJson);
    const upstream = await this.provider.stream(turn.request, signal);
    return this.relay(upstream, turn, signal, (usage) => this.countTokens(userId, input.model, usage));
  }

  private async *relay(upstream: AsyncIterable<Uint8Array>, turn: Turn, signal: AbortSignal, onUsage: (usage: TokenUsage | undefined) => void): AsyncGenerator<Uint8Array> {
    const reader = new SseDataReader();
    const reply = new ReplyCollector(turn.userItems !== undefined);
    try {
      for await (const chunk of upstream) {
        for (const data of reader.push(chunk)) reply.event(data);
        yield chunk;
      }
    } catch (error) {
      if (!signal.aborted) throw providerError('The chat provider failed while streaming its reply.', error);
    }
    onUsage(reply.usage);
    if (signal.aborted) {
      await this.save(turn, reply.text, 'incomplete');
      return;
    }
    // The upstream's own error event has been relayed; a failed reply is not saved as complete.
    if (reply.failed) return;
    await this.save(turn, reply.text, 'completed');
    if (!reply.done) yield DONE;
  }

  private async prepare(userId: string, input: ChatCompletionInput, rawJson: string | undefined): Promise<Turn> {
    const { conversation, store, ...params } = input;
    if (conversation === undefined) {
      // Nothing of Easel's in the body: the client's bytes can go upstream as they are.
      return { request: new ChatRequest(params, store === undefined ? rawJson : undefined) };
    }
    const conversationId = typeof conversation === 'string' ? conversation : conversation.id;
    const history = historyToMessages(await this.ownedHistory(userId, conversationId));
    const toStore = store === false ? undefined : await this.conversations.withOwnMedia(userId, userItems(params.messages), () => 'messages');
    return {
      request: new ChatRequest({ ...params, messages: [...history, ...params.messages] }),
      conversationId,
      userItems: toStore,
    };
  }

  private async ownedHistory(userId: string, conversationId: string): Promise<string[]> {
    try {
      return await this.conversations.ownedHistory(userId, conversationId);
    } catch (error) {
      // Named after this request's own field.
      if (error instanceof ApiError && error.status === 404) throw notFound(error.message, 'conversation');
      throw error;
    }
  }

  private async save(turn: Turn, text: string, status: ItemStatus): Promise<void> {
    if (turn.conversationId === undefined || turn.userItems === undefined) return;
    await this.conversations.append(turn.conversationId, [...turn.userItems, assistantItem(text, status)]);
  }
}
