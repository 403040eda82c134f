// The providers file: what it accepts (YAML or JSON, shorthands, env: keys, defaults) and how it refuses a
// mistake: at start, in one line naming the provider and the field, never showing a key.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { parseProvidersFile } from '../../src/providers/config-file.ts';
import { tempDir } from '../helpers/app.ts';
import { ROOT, startServer } from '../helpers/server-process.ts';

const dir = tempDir('easel-providers-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const target = path.join(dir, name);
  fs.writeFileSync(target, text);
  return target;
}

const yaml = (text: string, env: Record<string, string> = {}) => parseProvidersFile(text, 'yaml', env);

/** The one-line message a file gets, or undefined when it is accepted. */
function problem(text: string, env: Record<string, string> = {}): string | undefined {
  try {
    yaml(text, env);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const SD = `
providers:
  - name: sd
    kind: image
    base_url: http://sd:7860/v1
    models:
      - id: sdxl
        upstream_model: stable-diffusion-xl-base-1.0
        aliases: [stable-diffusion]
        edits: false
        max_n: 4
        sizes: [512x512, 1024x1024]
        size_map: { 1792x1024: 1344x768 }
`;

describe('the providers file', () => {
  it('reads providers, models with their capabilities and aliases, and fills in defaults', () => {
    const config = yaml(`${SD}
  - name: openai
    kind: both
    base_url: https://api.openai.com/v1
    api_key: env:OPENAI_KEY
    weight: 3
    models:
      - { id: gpt-4o-mini, kind: chat }
      - { id: gpt-image-1, kind: image, streaming: true }
defaults: { chat: gpt-4o-mini, image: stable-diffusion }
circuit: { failure_threshold: 3, cooldown_seconds: 10 }
`.replace('{ 1792x1024: 1344x768 }', '{ 1792x1024: 1024x1024 }'), { OPENAI_KEY: 'sk-from-env' });
    const [sd, openai] = config.providers;
    expect(sd).toMatchObject({ name: 'sd', kinds: ['image'], weight: 1, maxConcurrency: 2, anyModel: false, endpoint: { url: 'http://sd:7860/v1', apiKey: undefined, timeoutMs: 300_000 } });
    expect(sd!.models[0]).toEqual({
      id: 'sdxl',
      aliases: ['stable-diffusion'],
      upstream: 'stable-diffusion-xl-base-1.0',
      kind: 'image',
      image: { generation: true, edits: false, streaming: undefined, maxN: 4, sizes: ['512x512', '1024x1024'], sizeMap: { '1792x1024': '1024x1024' } },
    });
    expect(openai).toMatchObject({ kinds: ['chat', 'image'], weight: 3, endpoint: { apiKey: 'sk-from-env' } });
    expect(openai!.models.map((m) => [m.id, m.kind, m.upstream])).toEqual([['gpt-4o-mini', 'chat', 'gpt-4o-mini'], ['gpt-image-1', 'image', 'gpt-image-1']]);
    expect(config.defaults).toEqual({ chat: 'gpt-4o-mini', image: 'stable-diffusion' });
    expect(config.circuit).toEqual({ failureThreshold: 3, cooldownMs: 10_000 });
  });

  it('takes a bare model name as shorthand, and JSON as well as YAML', () => {
    const text = JSON.stringify({ providers: [{ name: 'vllm', kind: 'chat', base_url: 'http://gpu:8000/v1', models: ['llama-3.1-8b'] }] });
    const config = parseProvidersFile(text, 'json', {});
    expect(config.providers[0]!.models).toMatchObject([{ id: 'llama-3.1-8b', upstream: 'llama-3.1-8b', kind: 'chat' }]);
    expect(config.providers[0]!.endpoint!.timeoutMs).toBe(120_000);
  });

  it.each([
    ['a field of the wrong type', `${SD}`.replace('max_n: 4', 'max_n: many'), 'provider "sd": models[0].max_n must be an integer'],
    ['a value out of range', `${SD}`.replace('max_n: 4', 'max_n: 11'), 'provider "sd": models[0].max_n must be <= 10'],
    ['an unknown field', `${SD}`.replace('max_n: 4', 'max_images: 4'), 'provider "sd": models[0] has an unknown field "max_images"'],
    ['a missing field, on a provider with no name yet', 'providers:\n  - kind: chat\n    base_url: http://x\n    any_model: true\n', 'providers[0]: name is required'],
    ['an unknown kind', 'providers:\n  - { name: a, kind: video, base_url: "http://x", any_model: true }\n', 'provider "a": kind must be one of chat, image, both'],
    ['a size that is not one', `${SD}`.replace('[512x512, 1024x1024]', '[512x512, big]'), 'provider "sd": models[0].sizes[1] must be a size such as 1024x1024'],
    ['a size map from a size that is not one', `${SD}`.replace('1792x1024: 1344x768', 'wide: 1344x768'), 'provider "sd": models[0].size_map: "wide" is not a size such as 1024x1024'],
    ['a size map onto a size the model lacks', SD, 'provider "sd": models[0].size_map maps 1792x1024 to 1344x768, which is not in sizes'],
    ['a provider that serves nothing', 'providers:\n  - { name: a, kind: chat, base_url: "http://x" }\n', 'provider "a": lists no models; list them under models or set any_model: true'],
    ['a model without a kind on a provider of both', 'providers:\n  - { name: a, kind: both, base_url: "http://x", models: [m] }\n', 'provider "a": models[0].kind is required when the provider\'s kind is both (chat or image)'],
    ['an image capability on a chat model', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", models: [{ id: m, max_n: 2 }] }\n', 'provider "a": models[0].max_n applies to image models only, and "m" is a chat model'],
    ['a model that can do nothing', 'providers:\n  - { name: a, kind: image, base_url: "http://x", models: [{ id: m, generation: false, edits: false }] }\n', 'provider "a": models[0]: generation and edits are both false, so "m" can do nothing'],
    ['a repeated model name', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", models: [m, { id: n, aliases: [m] }] }\n', 'provider "a": models[1] repeats the model name "m"'],
    ['two providers of one name', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", any_model: true }\n  - { name: a, kind: chat, base_url: "http://y", any_model: true }\n', 'provider "a" is declared twice'],
    ['a base URL that is not http', 'providers:\n  - { name: a, kind: chat, base_url: "ftp://x", any_model: true }\n', 'provider "a": base_url must be an http(s) URL'],
    ['a default nobody serves', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", models: [m] }\ndefaults: { chat: gpt-5 }\n', 'defaults.chat: no chat provider serves the model "gpt-5"'],
    ['no providers', 'providers: []\n', 'providers must NOT have fewer than 1 items'],
    ['text that is not YAML', 'providers: [\n', 'not valid YAML:'],
  ])('refuses %s in one line', (_name, text, expected) => {
    const message = problem(text);
    expect(message).toBeDefined();
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('accepts the documented example, examples/providers.yaml', () => {
    const example = loadConfig({ EASEL_PROVIDERS: path.join(ROOT, 'examples/providers.yaml'), OPENAI_API_KEY: 'sk-a', LOCALAI_API_KEY: 'sk-b' }).providers;
    expect(example.providers.map((p) => p.name)).toEqual(['openai', 'vllm-a', 'vllm-b', 'ollama', 'localai']);
    expect(example.defaults).toEqual({ chat: 'llama-3.1-8b', image: 'sdxl' });
  });

  it('reads api_key from the environment, and names the variable (never a value) when it is missing', () => {
    const text = 'providers:\n  - { name: openai, kind: chat, base_url: "https://api.openai.com/v1", api_key: "env:OPENAI_KEY", any_model: true }\n';
    expect(yaml(text, { OPENAI_KEY: 'sk-secret-value' }).providers[0]!.endpoint!.apiKey).toBe('sk-secret-value');
    expect(problem(text)).toBe('provider "openai": api_key names the environment variable OPENAI_KEY, which is not set');
  });

  it('stops the configuration with the file named, and refuses the guide\'s variables beside it', () => {
    const good = file('good.yaml', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", any_model: true }\n');
    expect(loadConfig({ EASEL_PROVIDERS: good }).providers.providers[0]!.name).toBe('a');
    const bad = file('bad.yaml', 'providers:\n  - { name: a, kind: chat, base_url: "http://x", api_key: "sk-inline-key", weight: 0, any_model: true }\n');
    expect(() => loadConfig({ EASEL_PROVIDERS: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ EASEL_PROVIDERS: bad })).toThrow(`EASEL_PROVIDERS (${bad}): provider "a": weight must be >= 1`);
    expect(() => loadConfig({ EASEL_PROVIDERS: bad })).not.toThrow(/sk-inline-key/);
    expect(() => loadConfig({ EASEL_PROVIDERS: good, LLM_PROVIDER_URL: 'http://llm/v1' })).toThrow('LLM_PROVIDER_URL cannot be used with a providers file');
    expect(() => loadConfig({ EASEL_PROVIDERS: path.join(dir, 'missing.yaml') })).toThrow('cannot read the file (ENOENT)');
  });

  it('turns the guide\'s variables into one catch-all provider each', () => {
    const config = loadConfig({ LLM_PROVIDER_URL: 'http://llm:8000/v1', IMAGE_PROVIDER_URL: 'http://sd:8003/v1', IMAGE_PROVIDER_API_KEY: 'k' });
    expect(config.providers.providers).toMatchObject([
      { name: 'llm', kinds: ['chat'], anyModel: true, models: [], endpoint: { url: 'http://llm:8000/v1', timeoutMs: 120_000 } },
      { name: 'image', kinds: ['image'], anyModel: true, models: [], endpoint: { url: 'http://sd:8003/v1', apiKey: 'k', timeoutMs: 300_000 } },
    ]);
    expect(loadConfig({}).providers.providers).toEqual([]);
  });

  it('keeps the server from starting, exit code 2, with the one line on stderr', async () => {
    const bad = file('start.yaml', 'providers:\n  - { name: sd, kind: image, base_url: "http://x", models: [{ id: m, max_n: 0 }] }\n');
    const failure = await startServer({ DATA_DIR: tempDir(), EASEL_PROVIDERS: bad }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(failure).toContain('server exited early (2)');
    expect(failure).toContain(`easel: invalid configuration: EASEL_PROVIDERS (${bad}): provider "sd": models[0].max_n must be >= 1`);
  });
});
