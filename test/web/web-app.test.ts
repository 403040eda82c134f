// The web app end to end: the real server process, driven through Debian's Chromium with playwright-core.
// Screenshots land in test-artifacts/web/ for a human look.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import sharp from 'sharp';
import { tempDir } from '../helpers/app.ts';
import { ROOT, startServer, type ServerProcess } from '../helpers/server-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts/web');
const STEP_TIMEOUT_MS = 60_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** Records what must never happen on the page: uncaught errors and CSP violations. */
function watchForFaults(page: Page): string[] {
  const faults: string[] = [];
  page.on('pageerror', (error) => faults.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) faults.push(`csp: ${message.text()}`);
  });
  return faults;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Waits until the <img> has really decoded a picture. */
async function waitForDecodedImage(image: Locator): Promise<number> {
  await image.waitFor();
  const handle = await image.elementHandle();
  await image.page().waitForFunction((img) => img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0, handle);
  return image.evaluate((img) => (img as HTMLImageElement).naturalWidth);
}

function sessionOf(page: Page): Promise<{ access_token: string; refresh_token: string; expires_at: number; username: string } | null> {
  return page.evaluate(() => JSON.parse(localStorage.getItem('easel.session') ?? 'null'));
}

/** Calls the API the way the page does, with the page's own token. */
async function apiAs(page: Page, url: string, init: { method: string; body?: unknown }): Promise<{ status: number; body: any }> {
  const { access_token: token } = (await sessionOf(page))!;
  return page.evaluate(async ({ url, init, token }) => {
    const res = await fetch(url, {
      method: init.method,
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, { url, init, token });
}

const conversationIdIn = (page: Page) => /#\/c\/(conv_[0-9a-z]+)/.exec(page.url())?.[1];

beforeAll(() => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

describe('web app (zero-config server, Chromium)', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let faults: string[];
  const dataDir = tempDir('easel-web-');
  const chatInput = () => page.getByRole('textbox', { name: 'Message', exact: true });
  const sidebar = () => page.getByRole('complementary', { name: 'Conversations and gallery' });
  const alert = () => page.getByRole('alert');

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    browser = await launch();
    page = await browser.newPage({ viewport: DESKTOP });
    page.setDefaultTimeout(15_000);
    faults = watchForFaults(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the page with a strict policy, and nothing outside src/web', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const script = await fetch(`${server.url}/assets/js/main.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = script.headers.get('etag')!;
    expect((await fetch(`${server.url}/assets/js/main.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const sneaky of ['/assets/../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json', '/assets/js/../../../src/config.ts']) {
      const probe = await fetch(`${server.url}${sneaky}`);
      expect(probe.status, sneaky).toBe(404);
    }
  });

  it('signs in as a guest on its own', async () => {
    await page.goto(server.url);
    await sidebar().getByText(/^Signed in as guest-/).waitFor();
    const session = await sessionOf(page);
    expect(session?.access_token).toBeTruthy();
    expect(session?.refresh_token).toBeTruthy();
    await screenshot(page, '01-desktop-empty');
  }, STEP_TIMEOUT_MS);

  it('sends a message with Enter and shows the streamed reply', async () => {
    await page.getByRole('combobox', { name: 'Chat model' }).locator('option', { hasText: 'easel-demo-chat' }).waitFor({ state: 'attached' });
    await chatInput().fill('Hello Easel, please remember the word pineapple.');
    await chatInput().press('Enter');
    const reply = page.locator('.message.assistant:not(.streaming) .message-text');
    await reply.waitFor();
    // The demo model repeats what it was told: the reply really came from the server.
    expect(await reply.innerText()).toContain('pineapple');
    expect(await chatInput().inputValue()).toBe('');
    expect(conversationIdIn(page)).toBeTruthy();
    await sidebar().getByRole('link', { name: 'Hello Easel, please remember the word pineapple.' }).waitFor();
    await screenshot(page, '02-desktop-chat');
  }, STEP_TIMEOUT_MS);

  it('generates an image into the conversation and enlarges it', async () => {
    await page.getByRole('tab', { name: 'Image' }).click();
    await page.getByRole('textbox', { name: 'Image prompt' }).fill('A lighthouse on a cliff at dusk, oil painting');
    await page.getByRole('combobox', { name: 'Size' }).selectOption('512x512');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/images/generations') && r.method() === 'POST');
    await page.getByRole('button', { name: 'Generate' }).click();
    // One image: asked for as a stream with partial previews, saved into this conversation.
    expect(JSON.parse((await sent).postData()!)).toMatchObject({
      prompt: 'A lighthouse on a cliff at dusk, oil painting', n: 1, size: '512x512', store: true,
      conversation_id: conversationIdIn(page), stream: true, partial_images: 2,
    });
    const image = page.locator('.image-call:not(.pending) .image-grid img').first();
    expect(await waitForDecodedImage(image)).toBeGreaterThan(0);
    expect(await image.getAttribute('src')).toMatch(/\/images\/jan_[0-9a-z]{26}\.(png|jpg|webp)\?exp=\d+&sig=/);
    await screenshot(page, '03-desktop-image');

    await page.getByRole('button', { name: /^Enlarge image 1/ }).click();
    const lightbox = page.getByRole('dialog');
    await lightbox.waitFor();
    expect(await waitForDecodedImage(lightbox.locator('img'))).toBeGreaterThan(0);
    expect(await lightbox.getByRole('link', { name: 'Download' }).getAttribute('href')).toMatch(/\/images\/jan_/);
    await screenshot(page, '04-desktop-lightbox');
    await page.keyboard.press('Escape');
    await lightbox.waitFor({ state: 'hidden' });
  }, STEP_TIMEOUT_MS);

  it('generates several images with one plain (non-streaming) request', async () => {
    await page.getByRole('textbox', { name: 'Image prompt' }).fill('Two paper boats on a pond');
    await page.getByRole('spinbutton', { name: 'Count' }).fill('2');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/images/generations') && r.method() === 'POST');
    await page.getByRole('textbox', { name: 'Image prompt' }).press('Enter');
    const body = JSON.parse((await sent).postData()!);
    expect(body).toMatchObject({ prompt: 'Two paper boats on a pond', n: 2, response_format: 'url', store: true });
    expect(body.stream).toBeUndefined();
    const card = page.locator('.image-call:not(.pending)', { hasText: 'Two paper boats on a pond' });
    const images = card.locator('.image-grid img');
    await images.nth(1).waitFor();
    expect(await images.count()).toBe(2);
    for (const i of [0, 1]) expect(await waitForDecodedImage(images.nth(i))).toBeGreaterThan(0);
    await screenshot(page, '03b-desktop-two-images');
    await page.getByRole('spinbutton', { name: 'Count' }).fill('1');
  }, STEP_TIMEOUT_MS);

  it('shows the whole history again after a reload', async () => {
    const before = page.url();
    await page.reload();
    expect(page.url()).toBe(before);
    await page.locator('.message.user', { hasText: 'remember the word pineapple' }).waitFor();
    await page.locator('.message.assistant', { hasText: 'pineapple' }).waitFor();
    await page.locator('.message.user', { hasText: 'A lighthouse on a cliff' }).waitFor();
    expect(await waitForDecodedImage(page.locator('.image-call .image-grid img').first())).toBeGreaterThan(0);
    // The same guest, not a new one.
    await sidebar().getByRole('link', { name: /pineapple/ }).waitFor();
  }, STEP_TIMEOUT_MS);

  it('renews a refused access token once and retries, staying the same guest', async () => {
    const before = (await sessionOf(page))!;
    // A token the server no longer accepts (revoked, keys rotated): the next calls get 401.
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('easel.session')!);
      localStorage.setItem('easel.session', JSON.stringify({ ...session, access_token: 'no-longer-valid' }));
    });
    const refreshes: number[] = [];
    page.on('response', (r) => r.url().endsWith('/auth/refresh-token') && refreshes.push(r.status()));
    await page.reload();
    await sidebar().getByRole('link', { name: /pineapple/ }).waitFor();
    await page.locator('.message.assistant', { hasText: 'pineapple' }).waitFor();
    const after = (await sessionOf(page))!;
    expect(after.username).toBe(before.username);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    // Several calls were refused at once, yet the refresh token was exchanged once (it rotates).
    expect(refreshes).toEqual([200]);
  }, STEP_TIMEOUT_MS);

  it('refreshes the token ahead of its expiry', async () => {
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('easel.session')!);
      localStorage.setItem('easel.session', JSON.stringify({ ...session, expires_at: Date.now() + 5_000 }));
    });
    const before = (await sessionOf(page))!;
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/auth/refresh-token'));
    await page.reload();
    expect((await refreshed).status()).toBe(200);
    await page.waitForFunction((old) => JSON.parse(localStorage.getItem('easel.session')!).access_token !== old, before.access_token);
    const after = (await sessionOf(page))!;
    expect(after.expires_at).toBeGreaterThan(Date.now() + 60_000);
    await sidebar().getByRole('link', { name: /pineapple/ }).waitFor();
  }, STEP_TIMEOUT_MS);

  it('collects every image in the gallery', async () => {
    await sidebar().getByRole('link', { name: 'Gallery' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gallery' }).waitFor();
    const tiles = page.getByRole('list', { name: 'All images' }).locator('img');
    await tiles.nth(2).waitFor();
    for (const i of [0, 1, 2]) expect(await waitForDecodedImage(tiles.nth(i))).toBeGreaterThan(0);
    const alts = await tiles.evaluateAll((imgs) => imgs.map((img) => img.getAttribute('alt')));
    // Newest first: the two boats, then the lighthouse.
    expect(alts).toEqual(['Generated image: Two paper boats on a pond', 'Generated image: Two paper boats on a pond', 'Generated image: A lighthouse on a cliff at dusk, oil painting']);
    const tile = tiles.last();
    await screenshot(page, '05-desktop-gallery');
    await tile.click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
  }, STEP_TIMEOUT_MS);

  it('falls back to a plain request when the server refuses to stream images', async () => {
    await sidebar().getByRole('link', { name: /pineapple/ }).click();
    await page.locator('.image-call').first().waitFor();
    const bodies: any[] = [];
    // Stands in for a server without image streaming: the streamed request gets a 400, the rest go through.
    await page.route('**/v1/images/generations', async (route) => {
      const body = route.request().postDataJSON();
      bodies.push(body);
      if (body.stream) {
        await route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { message: 'Streaming is not supported', type: 'invalid_request_error', param: 'stream', code: null } }) });
      } else {
        await route.continue();
      }
    });
    try {
      await page.getByRole('tab', { name: 'Image' }).click();
      await page.getByRole('textbox', { name: 'Image prompt' }).fill('A red kite over the dunes');
      await page.getByRole('button', { name: 'Generate' }).click();
      const image = page.locator('.image-call:not(.pending)', { hasText: 'A red kite over the dunes' }).locator('img');
      expect(await waitForDecodedImage(image)).toBeGreaterThan(0);
      expect(bodies.map((b) => Boolean(b.stream))).toEqual([true, false]);
      expect(bodies[1]).toMatchObject({ prompt: 'A red kite over the dunes', n: 1, response_format: 'url' });
      expect(await alert().count()).toBe(0);
    } finally {
      await page.unroute('**/v1/images/generations');
    }
  }, STEP_TIMEOUT_MS);

  it('renames and deletes a conversation from the sidebar', async () => {
    await page.goto(`${server.url}/#/`);
    await page.getByRole('tab', { name: 'Chat' }).click();
    await chatInput().fill('A conversation to rename');
    await chatInput().press('Enter');
    await page.locator('.message.assistant:not(.streaming)').waitFor();
    const id = conversationIdIn(page)!;

    await sidebar().getByRole('button', { name: 'Rename “A conversation to rename”' }).click();
    const renameDialog = page.getByRole('dialog', { name: 'Rename conversation' });
    await renameDialog.getByRole('textbox', { name: 'Title' }).fill('Trip ideas');
    await screenshot(page, '06-desktop-rename');
    await renameDialog.getByRole('textbox', { name: 'Title' }).press('Enter');
    await sidebar().getByRole('link', { name: 'Trip ideas' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Trip ideas' }).waitFor();
    expect((await apiAs(page, `/v1/conversations/${id}`, { method: 'GET' })).body.title).toBe('Trip ideas');

    await sidebar().getByRole('button', { name: 'Delete “Trip ideas”' }).click();
    await page.getByRole('dialog', { name: 'Delete conversation?' }).getByRole('button', { name: 'Delete' }).click();
    await sidebar().getByRole('link', { name: 'Trip ideas' }).waitFor({ state: 'detached' });
    await page.getByRole('heading', { level: 1, name: 'New conversation' }).waitFor();
    expect((await apiAs(page, `/v1/conversations/${id}`, { method: 'GET' })).status).toBe(404);
  }, STEP_TIMEOUT_MS);

  it('shows an error from the API as a readable message, and keeps the unsent text', async () => {
    await chatInput().fill('First words of a doomed conversation');
    await chatInput().press('Enter');
    await page.locator('.message.assistant:not(.streaming)').waitFor();
    const id = conversationIdIn(page)!;
    // Deleted behind the page's back (another tab, another device): the server now refuses this conversation.
    expect((await apiAs(page, `/v1/conversations/${id}`, { method: 'DELETE' })).status).toBe(200);
    const refused = await apiAs(page, '/v1/chat/completions', { method: 'POST', body: { model: 'easel-demo-chat', messages: [{ role: 'user', content: 'x' }], conversation: { id }, stream: true } });
    expect(refused.status).toBe(404);

    await chatInput().fill('Are you still there?');
    await chatInput().press('Enter');
    await alert().waitFor();
    expect(await alert().innerText()).toContain(refused.body.error.message);
    expect(await chatInput().inputValue()).toBe('Are you still there?');
    await screenshot(page, '07-desktop-error');
    await alert().getByRole('button', { name: 'Dismiss message' }).click();
    await alert().waitFor({ state: 'detached' });
  }, STEP_TIMEOUT_MS);

  it('shows why an image request was refused, and keeps the prompt', async () => {
    await page.goto(`${server.url}/#/`);
    await page.getByRole('tab', { name: 'Image' }).click();
    const conversationsBefore = await sidebar().locator('.conversation').count();
    const tooLong = 'a'.repeat(32_001);
    await page.getByRole('textbox', { name: 'Image prompt' }).fill(tooLong);
    await page.getByRole('button', { name: 'Generate' }).click();
    await alert().waitFor();
    expect(await alert().innerText()).toMatch(/'prompt'.*32000 characters/);
    expect(await page.getByRole('textbox', { name: 'Image prompt' }).inputValue()).toBe(tooLong);
    expect(await page.locator('.image-call').count()).toBe(0);
    // The conversation made for the refused request is not left behind empty.
    await page.getByRole('heading', { level: 1, name: 'New conversation' }).waitFor();
    expect(await sidebar().locator('.conversation').count()).toBe(conversationsBefore);
    await alert().getByRole('button', { name: 'Dismiss message' }).click();
    await page.getByRole('textbox', { name: 'Image prompt' }).fill('');
    await page.getByRole('tab', { name: 'Chat' }).click();
  }, STEP_TIMEOUT_MS);

  it('follows the system dark scheme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await sidebar().getByRole('link', { name: /pineapple/ }).click();
    await waitForDecodedImage(page.locator('.image-call .image-grid img').first());
    const [r, g, b] = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor.match(/\d+/g)!.map(Number));
    expect(0.2126 * r! + 0.7152 * g! + 0.0722 * b!).toBeLessThan(60);
    await screenshot(page, '08-desktop-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  }, STEP_TIMEOUT_MS);

  it('fits a phone: the sidebar becomes a drawer', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${server.url}/#/`);
    const sidebarRight = () => sidebar().evaluate((el) => el.getBoundingClientRect().right);
    await page.waitForFunction(() => document.getElementById('sidebar')!.getBoundingClientRect().right <= 0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await chatInput().waitFor();
    await page.locator('.conversation-list .conversation').first().waitFor({ state: 'attached' });
    await screenshot(page, '09-phone-chat');

    const menu = page.getByRole('button', { name: 'Open menu' });
    await menu.click();
    await page.waitForFunction(() => document.getElementById('sidebar')!.getBoundingClientRect().left >= 0);
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, '10-phone-drawer');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.getElementById('sidebar')!.getBoundingClientRect().right <= 0);
    expect(await sidebarRight()).toBeLessThanOrEqual(0);

    await menu.click();
    await sidebar().getByRole('link', { name: /pineapple/ }).click();
    await page.waitForFunction(() => document.getElementById('sidebar')!.getBoundingClientRect().right <= 0);
    expect(await waitForDecodedImage(page.locator('.image-call .image-grid img').first())).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, '11-phone-history');

    await menu.click();
    await sidebar().getByRole('link', { name: 'Gallery' }).click();
    await waitForDecodedImage(page.getByRole('list', { name: 'All images' }).locator('img').first());
    await screenshot(page, '12-phone-gallery');
  }, STEP_TIMEOUT_MS);

  it('raised no uncaught errors and no CSP violations', () => {
    expect(faults).toEqual([]);
  });
});

interface Fake {
  url: string;
  close(): Promise<void>;
}

/** A loopback OpenAI-compatible upstream answering with the given handler. */
async function startFake(handle: (req: http.IncomingMessage, body: any, res: http.ServerResponse) => void): Promise<Fake> {
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const part of req) raw += part;
    handle(req, raw ? JSON.parse(raw) : undefined, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const listModels = (res: http.ServerResponse, ids: string[]) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1, owned_by: 'test' })) }));

function settled(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('web app while answers are still arriving (upstreams that hold them open)', () => {
  let chatUpstream: Fake;
  let imageUpstream: Fake;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let faults: string[];
  const dataDir = tempDir('easel-web-');
  const chatHungUp = settled();
  const finishImage = settled();

  beforeAll(async () => {
    // The chat reply starts, then never ends on its own: only Stop ends it.
    chatUpstream = await startFake((req, _body, res) => {
      if (req.url!.endsWith('/models')) return listModels(res, ['held-model']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const delta = { id: 'chatcmpl-held', object: 'chat.completion.chunk', created: 1, model: 'held-model', choices: [{ index: 0, delta: { content: 'Once upon a time' }, finish_reason: null }] };
      res.write(`data: ${JSON.stringify(delta)}\n\n`);
      res.once('close', chatHungUp.resolve);
    });
    // The image stream sends a partial preview, then waits for the test before sending the finished image.
    const preview = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#7c5cff' } }).png().toBuffer();
    const final = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#ff7a59' } }).png().toBuffer();
    imageUpstream = await startFake((req, body, res) => {
      if (req.url!.endsWith('/models')) return listModels(res, ['gpt-image-1']);
      const event = (type: string, fields: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(event('image_generation.partial_image', { b64_json: preview.toString('base64'), partial_image_index: 0, size: body.size, output_format: 'png' }));
      void finishImage.promise.then(() => res.end(event('image_generation.completed', { b64_json: final.toString('base64'), size: body.size, output_format: 'png' })));
    });
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', LLM_PROVIDER_URL: chatUpstream.url, IMAGE_PROVIDER_URL: imageUpstream.url });
    browser = await launch();
    page = await browser.newPage({ viewport: DESKTOP });
    page.setDefaultTimeout(15_000);
    faults = watchForFaults(page);
    await page.goto(server.url);
  });

  afterAll(async () => {
    finishImage.resolve();
    await browser?.close();
    await server?.stop();
    await chatUpstream?.close();
    await imageUpstream?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows text while the reply is still streaming, and Stop ends it', async () => {
    const picker = page.getByRole('combobox', { name: 'Chat model' });
    await picker.locator('option', { hasText: 'held-model' }).waitFor({ state: 'attached' });
    expect(await picker.inputValue()).toBe('held-model');
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Tell me a story');
    await page.getByRole('button', { name: 'Send' }).click();
    // The upstream never finishes on its own: this text can only be on screen mid-stream.
    await page.locator('.message.assistant.streaming', { hasText: 'Once upon a time' }).waitFor();
    const stop = page.getByRole('button', { name: 'Stop' });
    await stop.waitFor();
    await screenshot(page, '13-desktop-streaming');

    await stop.click();
    await page.locator('.message.assistant:not(.streaming)', { hasText: 'Stopped' }).waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await chatHungUp.promise;
  }, STEP_TIMEOUT_MS);

  it('shows progress and the partial preview until the image is done', async () => {
    await page.getByRole('tab', { name: 'Image' }).click();
    const model = page.getByRole('combobox', { name: 'Model' });
    await model.locator('option', { hasText: 'gpt-image-1' }).waitFor({ state: 'attached' });
    await page.getByRole('textbox', { name: 'Image prompt' }).fill('A violet square');
    await page.getByRole('button', { name: 'Generate' }).click();

    const pending = page.locator('.image-call.pending');
    await pending.getByRole('progressbar').waitFor();
    expect(await page.getByRole('button', { name: 'Generating…' }).isDisabled()).toBe(true);
    expect(await waitForDecodedImage(pending.locator('img.partial-image'))).toBe(64);
    await screenshot(page, '14-desktop-image-progress');

    finishImage.resolve();
    expect(await waitForDecodedImage(page.locator('.image-call:not(.pending) .image-grid img'))).toBe(512);
    await pending.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Generate' }).waitFor();
    expect(faults).toEqual([]);
  }, STEP_TIMEOUT_MS);
});
