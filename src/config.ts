// Every environment variable Easel reads, typed and validated once at start.
// A bad value stops the server with one line naming the variable.
import path from 'node:path';
import { loadProviders, ProvidersFileError, type ProvidersConfig } from './providers/config-file.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface RateLimit {
  max: number;
  windowMs: number;
  /** As written, e.g. "30/min", for messages and docs. */
  text: string;
}

export interface S3Config {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  /** Key prefix inside the bucket ('' or ending in '/'): Easel lists and prunes only under it. */
  prefix: string;
}

export interface ProviderEndpoint {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string | undefined };
  media: { store: 'fs'; dir: string } | { store: 's3'; s3: S3Config };
  /** Base of signed image URLs; undefined means "the server's own URL", derived per request. */
  mediaPublicUrl: string | undefined;
  mediaUrlTtlSeconds: number;
  maxImageBytes: number;
  /** The server's housekeeping: orphaned media files and expired idempotency keys (0 = off). */
  sweepIntervalMs: number;
  /** Media files younger than this are never taken for orphans (their row may be on its way). */
  mediaOrphanGraceMs: number;
  llmProvider: ProviderEndpoint | undefined;
  imageGenerationEnabled: boolean;
  imageProviderEnabled: boolean;
  imageProvider: ProviderEndpoint | undefined;
  providersFile: string | undefined;
  /** Every upstream and the models it serves: EASEL_PROVIDERS, or the two variables above as one provider each. */
  providers: ProvidersConfig;
  modelsCacheTtlSeconds: number;
  redisUrl: string | undefined;
  /** Prefix of every Redis key Easel writes, so deployments (and tests) can share one Redis. */
  redisKeyPrefix: string;
  /** Fastify's trustProxy: whose X-Forwarded-For to believe for the client IP (per-IP rate limits). */
  trustProxy: boolean | number | string;
  rateLimits: { guestLogin: RateLimit; images: RateLimit; chat: RateLimit };
  auth: {
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** How often each instance re-reads the JWT key ring, so rotations and retirements made elsewhere reach it. */
    keysReloadSeconds: number;
  };
  bodyLimitBytes: number;
  logLevel: string;
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  metricsToken: string | undefined;
  corsOrigins: string[];
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function fail(name: string, expected: string, got: string): never {
  throw new ConfigError(`${name} must be ${expected} (got ${JSON.stringify(got)})`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) fail(name, `an integer from ${min} to ${max}`, raw);
  const value = Number(raw);
  if (value < min || value > max) fail(name, `an integer from ${min} to ${max}`, raw);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  return fail(name, 'true or false', raw);
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return fail(name, 'an http(s) URL', raw);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(name, 'an http(s) URL', raw);
  return raw.replace(/\/+$/, '');
}

const WINDOWS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

function rateLimit(env: Env, name: string, fallback: string): RateLimit {
  const text = read(env, name) ?? fallback;
  const match = /^(\d+)\s*\/\s*([a-z]+)$/i.exec(text);
  const windowMs = match ? WINDOWS[match[2]!.toLowerCase()] : undefined;
  if (!match || windowMs === undefined || Number(match[1]) < 1) {
    return fail(name, 'a rate such as "30/min" (per s, min or hour)', text);
  }
  return { max: Number(match[1]), windowMs, text };
}

/** TRUST_PROXY: true/false, a hop count, or comma-separated addresses/CIDRs of the proxies. */
function trustProxy(env: Env): boolean | number | string {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined) return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  const lower = raw.toLowerCase();
  if (['true', 'yes', 'on'].includes(lower)) return true;
  if (['false', 'no', 'off'].includes(lower)) return false;
  return raw;
}

function database(env: Env, dataDir: string): Config['database'] {
  const url = read(env, 'DATABASE_URL');
  if (url === undefined) return { kind: 'sqlite', file: path.join(dataDir, 'easel.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, schema: read(env, 'DATABASE_SCHEMA') };
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: path.resolve(url.slice('sqlite:'.length).replace(/^\/\//, '')) };
  return fail('DATABASE_URL', 'a postgres:// or sqlite: URL', url);
}

function s3Prefix(env: Env): string {
  const raw = read(env, 'S3_PREFIX');
  if (raw === undefined) return '';
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(trimmed) || trimmed.split('/').some((s) => s === '.' || s === '..')) {
    fail('S3_PREFIX', 'a key prefix such as "easel/media"', raw);
  }
  return `${trimmed}/`;
}

function media(env: Env, dataDir: string): Config['media'] {
  const store = read(env, 'MEDIA_STORE') ?? 'fs';
  if (store === 'fs') return { store: 'fs', dir: path.join(dataDir, 'media') };
  if (store !== 's3') return fail('MEDIA_STORE', 'fs or s3', store);
  const bucket = read(env, 'S3_BUCKET');
  if (bucket === undefined) throw new ConfigError('S3_BUCKET is required when MEDIA_STORE=s3');
  return {
    store: 's3',
    s3: {
      endpoint: httpUrl(env, 'S3_ENDPOINT'),
      bucket,
      region: read(env, 'S3_REGION') ?? 'us-east-1',
      accessKeyId: read(env, 'S3_ACCESS_KEY_ID'),
      secretAccessKey: read(env, 'S3_SECRET_ACCESS_KEY'),
      forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', false),
      prefix: s3Prefix(env),
    },
  };
}

function provider(env: Env, prefix: string, defaultTimeoutSeconds: number): ProviderEndpoint | undefined {
  const url = httpUrl(env, `${prefix}_URL`);
  if (url === undefined) return undefined;
  return {
    url,
    apiKey: read(env, `${prefix}_API_KEY`),
    timeoutMs: integer(env, `${prefix}_TIMEOUT_SECONDS`, defaultTimeoutSeconds, 1, 3600) * 1000,
  };
}

/** EASEL_PROVIDERS (or the guide's LLM_/IMAGE_PROVIDER_* variables), checked at start like every variable. */
function providers(env: Env, llm: ProviderEndpoint | undefined, image: ProviderEndpoint | undefined): ProvidersConfig {
  const file = read(env, 'EASEL_PROVIDERS');
  try {
    return loadProviders({ file, llm, image, env });
  } catch (error) {
    if (error instanceof ProvidersFileError) throw new ConfigError(`EASEL_PROVIDERS (${file}): ${error.message}`);
    throw error;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const llmProvider = provider(env, 'LLM_PROVIDER', 120);
  const imageProvider = provider(env, 'IMAGE_PROVIDER', 300);
  const dataDir = path.resolve(read(env, 'DATA_DIR') ?? './data');
  const logLevel = read(env, 'LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    fail('LOG_LEVEL', 'one of fatal, error, warn, info, debug, trace, silent', logLevel);
  }
  return {
    port: integer(env, 'PORT', 8000, 0, 65535),
    host: read(env, 'HOST') ?? '0.0.0.0',
    dataDir,
    database: database(env, dataDir),
    media: media(env, dataDir),
    mediaPublicUrl: httpUrl(env, 'MEDIA_PUBLIC_URL'),
    mediaUrlTtlSeconds: integer(env, 'MEDIA_URL_TTL_SECONDS', 3600, 1, 7 * 24 * 3600),
    maxImageBytes: integer(env, 'MAX_IMAGE_BYTES', 20 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    sweepIntervalMs: integer(env, 'SWEEP_INTERVAL_SECONDS', 600, 0, 7 * 24 * 3600) * 1000,
    mediaOrphanGraceMs: integer(env, 'MEDIA_ORPHAN_GRACE_SECONDS', 3600, 60, 30 * 24 * 3600) * 1000,
    llmProvider,
    imageGenerationEnabled: boolean(env, 'IMAGE_GENERATION_ENABLED', true),
    imageProviderEnabled: boolean(env, 'IMAGE_PROVIDER_ENABLED', true),
    imageProvider,
    providersFile: read(env, 'EASEL_PROVIDERS'),
    providers: providers(env, llmProvider, imageProvider),
    modelsCacheTtlSeconds: integer(env, 'MODELS_CACHE_TTL_SECONDS', 60, 0, 86400),
    redisUrl: read(env, 'REDIS_URL'),
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'easel:',
    trustProxy: trustProxy(env),
    rateLimits: {
      guestLogin: rateLimit(env, 'RATE_LIMIT_GUEST_LOGIN', '30/min'),
      images: rateLimit(env, 'RATE_LIMIT_IMAGES', '60/min'),
      chat: rateLimit(env, 'RATE_LIMIT_CHAT', '600/min'),
    },
    auth: {
      issuer: read(env, 'JWT_ISSUER') ?? 'easel',
      audience: read(env, 'JWT_AUDIENCE') ?? 'easel-api',
      accessTokenTtlSeconds: integer(env, 'ACCESS_TOKEN_TTL_SECONDS', 3600, 30, 7 * 24 * 3600),
      refreshTokenTtlSeconds: integer(env, 'REFRESH_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
      keysReloadSeconds: integer(env, 'JWT_KEYS_RELOAD_SECONDS', 5, 1, 3600),
    },
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    logLevel,
    metricsToken: read(env, 'METRICS_TOKEN'),
    corsOrigins: (read(env, 'CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
  };
}
