import { describe, expect, it } from 'vitest';
import { ReplyCollector, SseDataReader } from '../../src/providers/chat/stream.ts';
import { apiBase } from '../../src/providers/chat/openai-compatible.ts';

describe('reading a chat SSE stream', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('finds events across chunk boundaries, split UTF-8 and CRLF line ends', () => {
    const reader = new SseDataReader();
    const text = 'data: {"a":"é"}\r\n\r\n: comment\n\ndata: line one\ndata: line two\n\nevent: x\ndata: [DONE]\n\n';
    const raw = bytes(text);
    const seen: string[] = [];
    // One byte at a time: every boundary, including the middle of "é" and of "\r\n", is a chunk boundary.
    for (let i = 0; i < raw.length; i++) seen.push(...reader.push(raw.subarray(i, i + 1)));
    expect(seen).toEqual(['{"a":"é"}', 'line one\nline two', '[DONE]']);
  });

  it('collects the first choice\'s text and notices [DONE] and error events', () => {
    const reply = new ReplyCollector(true);
    reply.event('{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}');
    reply.event('{"choices":[{"index":0,"delta":{"content":"Hel"}},{"index":1,"delta":{"content":"other"}}]}');
    reply.event('{"choices":[{"index":0,"delta":{"content":"lo"}}]}');
    reply.event('{"choices":[],"usage":{"total_tokens":3}}');
    reply.event('not json');
    expect(reply).toMatchObject({ text: 'Hello', done: false, failed: false });
    reply.event('[DONE]');
    expect(reply.done).toBe(true);

    const quiet = new ReplyCollector(false);
    quiet.event('{"choices":[{"index":0,"delta":{"content":"say \\"error\\""}}]}');
    expect(quiet).toMatchObject({ text: '', failed: false });
    quiet.event('{"error": {"message": "boom"}}');
    expect(quiet.failed).toBe(true);
  });
});

describe('the provider base URL', () => {
  it('adds /v1 only when the URL names no API version', () => {
    expect(apiBase('http://llm:8000')).toBe('http://llm:8000/v1');
    expect(apiBase('http://llm:8000/')).toBe('http://llm:8000/v1');
    expect(apiBase('http://llm:8000/v1')).toBe('http://llm:8000/v1');
    expect(apiBase('http://llm:8000/v1/')).toBe('http://llm:8000/v1');
    expect(apiBase('https://api.groq.com/openai/v1')).toBe('https://api.groq.com/openai/v1');
    expect(apiBase('https://generativelanguage.googleapis.com/v1beta/openai')).toBe('https://generativelanguage.googleapis.com/v1beta/openai');
    expect(apiBase('http://gateway/llm')).toBe('http://gateway/llm/v1');
    expect(apiBase('http://gateway/vision-models')).toBe('http://gateway/vision-models/v1');
  });
});
