// Reading OpenAI's chat SSE stream while it is relayed: where events end, and what the reply says.

export const DONE_EVENT = 'data: [DONE]\n\n';

/** Splits SSE bytes into each event's data, across chunk boundaries (events may span chunks). */
export class SseDataReader {
  private readonly decoder = new TextDecoder();
  private buffer = '';

  /** The data of every event completed by this chunk. */
  push(chunk: Uint8Array): string[] {
    let text = this.buffer + this.decoder.decode(chunk, { stream: true });
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    const events: string[] = [];
    let start = 0;
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
      const data = dataOf(text.slice(start, end));
      if (data !== undefined) events.push(data);
      start = end + 2;
    }
    this.buffer = text.slice(start);
    return events;
  }
}

function dataOf(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** Token counts as OpenAI reports them (`usage` on a completion, or on the last chunk of a stream). */
export interface TokenUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** Follows the events of a chat stream: the first choice's text, the usage, whether it ended with [DONE] or an error. */
export class ReplyCollector {
  text = '';
  done = false;
  failed = false;
  /** Sent by upstreams on the last chunk when the client asked for stream_options.include_usage. */
  usage: TokenUsage | undefined;
  private readonly collectText: boolean;

  /** Without collectText (nothing will be stored), only [DONE] and error events are looked for. */
  constructor(collectText: boolean) {
    this.collectText = collectText;
  }

  event(data: string): void {
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    // Without text to collect, only a chunk that may be an error event or carry usage is worth parsing.
    if (!this.collectText && !data.includes('"error"') && !data.includes('"usage"')) return;
    let chunk: { error?: unknown; usage?: TokenUsage | null; choices?: Array<{ index?: number; delta?: { content?: unknown } }> } | null;
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    if (chunk?.error) {
      this.failed = true;
      return;
    }
    if (chunk?.usage) this.usage = chunk.usage;
    if (!this.collectText) return;
    for (const choice of Array.isArray(chunk?.choices) ? chunk.choices : []) {
      if ((choice.index ?? 0) === 0 && typeof choice.delta?.content === 'string') this.text += choice.delta.content;
    }
  }
}
