// The chat and image endpoints may not exist yet: one real request tells, before a benchmark relies on them.

/** undefined when POST /v1/chat/completions answers 200 (JSON and SSE); otherwise why not. */
export async function probeChat(baseUrl: string, token: string): Promise<string | undefined> {
  for (const stream of [false, true]) {
    try {
      const res = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.text();
      if (res.status !== 200) return `POST /v1/chat/completions${stream ? ' (stream)' : ''} → ${res.status} ${text.slice(0, 200)}`;
    } catch (error) {
      return `POST /v1/chat/completions failed: ${(error as Error).message}`;
    }
  }
  return undefined;
}

/** undefined when POST /v1/images/generations answers 200 with a URL; otherwise why not. */
export async function probeImages(baseUrl: string, token: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${baseUrl}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ prompt: 'a red fox', size: '1024x1024', response_format: 'url' }),
    });
    const text = await res.text();
    if (res.status !== 200) return `POST /v1/images/generations → ${res.status} ${text.slice(0, 200)}`;
    const url = (JSON.parse(text) as { data?: Array<{ url?: string }> }).data?.[0]?.url;
    if (!url) return `POST /v1/images/generations gave no url: ${text.slice(0, 200)}`;
  } catch (error) {
    return `POST /v1/images/generations failed: ${(error as Error).message}`;
  }
  return undefined;
}
