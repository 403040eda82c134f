// The providers Easel routes to: read from the EASEL_PROVIDERS file (YAML or JSON), or made from the guide's
// LLM_PROVIDER_* / IMAGE_PROVIDER_* variables (each becomes a one-provider entry that serves any model).
// The file's shape is checked by the schema below, the rules between fields after it; every problem is
// one line naming the provider and the field. Keys are never part of a message.
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { Type, type Static } from 'typebox';
import { createRequire } from 'node:module';
import type { ProviderEndpoint } from '../config.ts';

export class ProvidersFileError extends Error {
  override name = 'ProvidersFileError';
}

export type ProviderKind = 'chat' | 'image';

/** What an image model can do, as declared; Easel maps or splits a request to fit, or refuses it (400). */
export interface ImageCapabilities {
  generation: boolean;
  edits: boolean;
  /** Whether the upstream streams partial images; undefined: the adapter knows the model family. */
  streaming: boolean | undefined;
  /** Images per upstream call; a larger n is split into several calls. */
  maxN: number;
  /** The sizes the upstream accepts; undefined: any. */
  sizes: string[] | undefined;
  /** A size the upstream lacks → the size it is asked for instead. */
  sizeMap: Record<string, string>;
}

export interface ModelSpec {
  /** The public id clients use and /v1/models lists. */
  id: string;
  /** Other public names for the same model. */
  aliases: string[];
  /** The upstream's own name for it. */
  upstream: string;
  kind: ProviderKind;
  image: ImageCapabilities;
}

export interface ProviderSpec {
  name: string;
  kinds: ProviderKind[];
  /** An OpenAI-compatible upstream, or Easel's built-in demo models. */
  adapter: 'openai-compatible' | 'demo';
  endpoint: ProviderEndpoint | undefined;
  weight: number;
  /** Async image jobs this instance runs on the provider at once. */
  maxConcurrency: number;
  /** Serves any model name of its kinds (chat: lists the upstream's own /models). */
  anyModel: boolean;
  models: ModelSpec[];
}

export interface CircuitSettings {
  /** Consecutive failures that open a provider's circuit. */
  failureThreshold: number;
  /** How long an open circuit keeps traffic away before one trial request is let through. */
  cooldownMs: number;
}

export interface ProvidersConfig {
  providers: ProviderSpec[];
  /** The model a request without `model` gets, per kind. */
  defaults: Partial<Record<ProviderKind, string>>;
  circuit: CircuitSettings;
}

export const DEFAULT_CIRCUIT: CircuitSettings = { failureThreshold: 5, cooldownMs: 30_000 };
export const DEFAULT_MAX_CONCURRENCY = 2;
const DEFAULT_TIMEOUT_SECONDS = { chat: 120, image: 300 };

/** Any model's capabilities when nothing is declared: what the OpenAI-compatible adapter does today. */
export const OPEN_IMAGE_CAPABILITIES: ImageCapabilities = { generation: true, edits: true, streaming: undefined, maxN: 10, sizes: undefined, sizeMap: {} };

// ---- the file's shape ----------------------------------------------------------------------------

const SIZE = '^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$';
const Size = Type.String({ pattern: SIZE });
const ModelName = Type.String({ minLength: 1, maxLength: 256 });

const ModelEntry = Type.Object(
  {
    id: ModelName,
    upstream_model: Type.Optional(ModelName),
    aliases: Type.Optional(Type.Array(ModelName, { maxItems: 32 })),
    kind: Type.Optional(Type.Enum(['chat', 'image'])),
    generation: Type.Optional(Type.Boolean()),
    edits: Type.Optional(Type.Boolean()),
    streaming: Type.Optional(Type.Boolean()),
    max_n: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    sizes: Type.Optional(Type.Array(Size, { minItems: 1, maxItems: 32 })),
    size_map: Type.Optional(Type.Record(Type.String({ pattern: SIZE }), Size, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const ProviderEntry = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    kind: Type.Enum(['chat', 'image', 'both']),
    base_url: Type.String({ minLength: 1 }),
    api_key: Type.Optional(Type.String({ minLength: 1 })),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    max_concurrency: Type.Integer({ minimum: 1, maximum: 256, default: DEFAULT_MAX_CONCURRENCY }),
    any_model: Type.Boolean({ default: false }),
    models: Type.Array(ModelEntry, { default: [], maxItems: 1000 }),
  },
  { additionalProperties: false },
);

const ProvidersFile = Type.Object(
  {
    defaults: Type.Optional(Type.Object({ chat: Type.Optional(ModelName), image: Type.Optional(ModelName) }, { additionalProperties: false })),
    circuit: Type.Optional(
      Type.Object(
        {
          failure_threshold: Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_CIRCUIT.failureThreshold }),
          cooldown_seconds: Type.Integer({ minimum: 1, maximum: 86_400, default: DEFAULT_CIRCUIT.cooldownMs / 1000 }),
        },
        { additionalProperties: false },
      ),
    ),
    providers: Type.Array(ProviderEntry, { minItems: 1, maxItems: 256 }),
  },
  { additionalProperties: false },
);

type FileShape = Static<typeof ProvidersFile>;
type ProviderShape = Static<typeof ProviderEntry>;
type ModelShape = Static<typeof ModelEntry>;

const validate = new Ajv({ useDefaults: true, allErrors: false, strict: false }).compile(ProvidersFile);

// ---- reading ---------------------------------------------------------------------------------------

type Env = Record<string, string | undefined>;

/**
 * The providers: from the file when EASEL_PROVIDERS names one, else from the guide's variables (each a
 * catch-all provider). Kinds nobody serves are left to the built-in demo models (see routing/build.ts).
 */
export function loadProviders(options: { file: string | undefined; llm: ProviderEndpoint | undefined; image: ProviderEndpoint | undefined; env: Env }): ProvidersConfig {
  const { file, llm, image, env } = options;
  if (file === undefined) return providersFromEnvironment(llm, image);
  const legacy = [llm && 'LLM_PROVIDER_URL', image && 'IMAGE_PROVIDER_URL'].filter(Boolean).join(' and ');
  if (legacy) throw new ProvidersFileError(`${legacy} cannot be used with a providers file: declare that provider in the file instead`);
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    throw new ProvidersFileError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseProvidersFile(text, path.extname(file).toLowerCase() === '.json' ? 'json' : 'yaml', env);
}

/** The guide's variables as providers: each upstream serves any model of its kind, as it always has. */
export function providersFromEnvironment(llm: ProviderEndpoint | undefined, image: ProviderEndpoint | undefined): ProvidersConfig {
  const legacy = (name: string, kind: ProviderKind, endpoint: ProviderEndpoint): ProviderSpec => ({
    name,
    kinds: [kind],
    adapter: 'openai-compatible',
    endpoint,
    weight: 1,
    maxConcurrency: DEFAULT_MAX_CONCURRENCY,
    anyModel: true,
    models: [],
  });
  const providers = [llm && legacy('llm', 'chat', llm), image && legacy('image', 'image', image)].filter((p): p is ProviderSpec => p !== undefined);
  return { providers, defaults: {}, circuit: DEFAULT_CIRCUIT };
}

/** The YAML parser, loaded only for a YAML providers file (start-up stays lean without one). */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

export function parseProvidersFile(text: string, format: 'yaml' | 'json', env: Env): ProvidersConfig {
  let data: unknown;
  try {
    data = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    throw new ProvidersFileError(`not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${first}`);
  }
  // A bare string in a model list is short for {id: …}.
  for (const provider of Array.isArray((data as FileShape | null)?.providers) ? (data as FileShape).providers : []) {
    if (Array.isArray(provider?.models)) provider.models = provider.models.map((m: unknown) => (typeof m === 'string' ? { id: m } : m)) as ModelShape[];
  }
  if (!validate(data)) throw new ProvidersFileError(oneLine(validate.errors![0]!, data));
  return resolve(data as FileShape, env);
}

// ---- the rules between fields ----------------------------------------------------------------------

function resolve(file: FileShape, env: Env): ProvidersConfig {
  const names = new Set<string>();
  const providers = file.providers.map((entry) => {
    if (names.has(entry.name)) throw new ProvidersFileError(`provider "${entry.name}" is declared twice`);
    if (entry.name === 'easel-demo') throw new ProvidersFileError('provider "easel-demo": the name is reserved for the built-in demo models');
    names.add(entry.name);
    return provider(entry, env);
  });
  const defaults: ProvidersConfig['defaults'] = {};
  for (const kind of ['chat', 'image'] as const) {
    const model = file.defaults?.[kind];
    if (model === undefined) continue;
    const servers = providers.filter((p) => p.kinds.includes(kind));
    const served = servers.some((p) => p.anyModel || p.models.some((m) => m.kind === kind && (m.id === model || m.aliases.includes(model))));
    if (!served) throw new ProvidersFileError(`defaults.${kind}: no ${kind} provider serves the model "${model}"`);
    defaults[kind] = model;
  }
  const circuit = file.circuit
    ? { failureThreshold: file.circuit.failure_threshold, cooldownMs: file.circuit.cooldown_seconds * 1000 }
    : DEFAULT_CIRCUIT;
  return { providers, defaults, circuit };
}

function provider(entry: ProviderShape, env: Env): ProviderSpec {
  const where = `provider "${entry.name}"`;
  const kinds: ProviderKind[] = entry.kind === 'both' ? ['chat', 'image'] : [entry.kind];
  if (!entry.any_model && entry.models.length === 0) throw new ProvidersFileError(`${where}: lists no models; list them under models or set any_model: true`);
  const timeoutSeconds = entry.timeout_seconds ?? Math.max(...kinds.map((k) => DEFAULT_TIMEOUT_SECONDS[k]));
  const seen = new Set<string>();
  const models = entry.models.map((m, i) => {
    const model = modelSpec(m, kinds, `${where}: models[${i}]`);
    for (const name of [model.id, ...model.aliases]) {
      const key = `${model.kind}:${name}`;
      if (seen.has(key)) throw new ProvidersFileError(`${where}: models[${i}] repeats the model name "${name}"`);
      seen.add(key);
    }
    return model;
  });
  return {
    name: entry.name,
    kinds,
    adapter: 'openai-compatible',
    endpoint: { url: baseUrl(entry.base_url, where), apiKey: apiKey(entry.api_key, env, where), timeoutMs: timeoutSeconds * 1000 },
    weight: entry.weight,
    maxConcurrency: entry.max_concurrency,
    anyModel: entry.any_model,
    models,
  };
}

const IMAGE_FIELDS = ['generation', 'edits', 'streaming', 'max_n', 'sizes', 'size_map'] as const;

function modelSpec(m: ModelShape, kinds: ProviderKind[], where: string): ModelSpec {
  if (m.kind !== undefined && !kinds.includes(m.kind)) throw new ProvidersFileError(`${where}.kind: the provider does not serve ${m.kind} models`);
  if (m.kind === undefined && kinds.length > 1) throw new ProvidersFileError(`${where}.kind is required when the provider's kind is both (chat or image)`);
  const kind = m.kind ?? kinds[0]!;
  const base = { id: m.id, aliases: m.aliases ?? [], upstream: m.upstream_model ?? m.id, kind };
  if (kind === 'chat') {
    const stray = IMAGE_FIELDS.find((field) => m[field] !== undefined);
    if (stray) throw new ProvidersFileError(`${where}.${stray} applies to image models only, and "${m.id}" is a chat model`);
    return { ...base, image: OPEN_IMAGE_CAPABILITIES };
  }
  const image: ImageCapabilities = {
    generation: m.generation ?? true,
    edits: m.edits ?? true,
    streaming: m.streaming,
    maxN: m.max_n ?? OPEN_IMAGE_CAPABILITIES.maxN,
    sizes: m.sizes,
    sizeMap: m.size_map ?? {},
  };
  if (!image.generation && !image.edits) throw new ProvidersFileError(`${where}: generation and edits are both false, so "${m.id}" can do nothing`);
  for (const [asked, sent] of Object.entries(image.sizeMap)) {
    if (image.sizes?.includes(asked)) throw new ProvidersFileError(`${where}.size_map maps ${asked}, which sizes already accepts`);
    if (image.sizes && !image.sizes.includes(sent)) throw new ProvidersFileError(`${where}.size_map maps ${asked} to ${sent}, which is not in sizes`);
  }
  return { ...base, image };
}

function baseUrl(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProvidersFileError(`${where}: base_url must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProvidersFileError(`${where}: base_url must be an http(s) URL`);
  if (url.username || url.password) throw new ProvidersFileError(`${where}: base_url must not carry credentials; use api_key`);
  return raw.replace(/\/+$/, '');
}

/** `env:NAME` reads the key from the environment, so the file itself can be shared without secrets. */
function apiKey(raw: string | undefined, env: Env, where: string): string | undefined {
  if (raw === undefined || !raw.startsWith('env:')) return raw;
  const name = raw.slice('env:'.length);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ProvidersFileError(`${where}: api_key "env:${name}" must name an environment variable`);
  const value = env[name]?.trim();
  if (!value) throw new ProvidersFileError(`${where}: api_key names the environment variable ${name}, which is not set`);
  return value;
}

// ---- one line per schema error -----------------------------------------------------------------------

/** "/providers/1/models/0/max_n" → `provider "sd": models[0].max_n`, naming the provider when it has a name. */
function oneLine(error: ErrorObject, data: unknown): string {
  const segments = error.instancePath.split('/').slice(1);
  let prefix = '';
  if (segments[0] === 'providers' && segments[1] !== undefined) {
    const name = (data as FileShape).providers[Number(segments[1])]?.name;
    prefix = typeof name === 'string' && name ? `provider "${name}"` : `providers[${segments[1]}]`;
    segments.splice(0, 2);
  }
  const field = (extra?: string) => {
    const parts = extra === undefined ? segments : [...segments, extra];
    const text = parts.reduce((out, s) => (/^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
    return [prefix, text].filter(Boolean).join(': ') || 'the file';
  };
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${field(String(p.missingProperty))} is required`;
    case 'additionalProperties':
      if (segments.at(-1) === 'size_map') return `${field()}: "${String(p.additionalProperty)}" is not a size such as 1024x1024`;
      return `${field()} has an unknown field "${String(p.additionalProperty)}"`;
    case 'enum':
      return `${field()} must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `${field()} ${segments.includes('sizes') || segments.includes('size_map') ? 'must be a size such as 1024x1024' : 'has characters that are not allowed'}`;
    case 'type':
      return `${field()} must be ${p.type === 'object' ? 'a mapping' : p.type === 'array' ? 'a list' : `a${/^[aeiou]/.test(String(p.type)) ? 'n' : ''} ${String(p.type)}`}`;
    default:
      return `${field()} ${error.message ?? 'is not valid'}`;
  }
}
