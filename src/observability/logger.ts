// Easel's logger: pino JSON lines (pretty when stdout is a terminal), one line per answered request,
// and no secrets. Secrets are kept out twice: known fields are redacted by path, and every line is
// scrubbed of anything shaped like a token, key or URL signature just before it is written, so a
// secret that reaches a log some other way (an error message, a URL) is caught too.
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export type { Logger };

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'access_token',
  'refresh_token',
  'api_key',
  '*.access_token',
  '*.refresh_token',
  '*.api_key',
];

/**
 * Bearer/Basic credentials, Easel API keys (`sk_…`) and OpenAI-style provider keys (`sk-…`), refresh
 * tokens (`rt_…`), JWTs (`eyJ….….…`), and credentials in query strings (`sig=`, `token=`, S3 presigning).
 */
const SECRET_SHAPES =
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+|\b(sk[-_]|rt_)[A-Za-z0-9_-]{8,}|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|([?&](?:sig|signature|token|access_token|refresh_token|api_key|key|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s"\\#]*/gi;

const REDACTED = '[redacted]';

/** `text` with every secret-shaped part, and each of the given secret values, replaced by [redacted]. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(SECRET_SHAPES, (_match, scheme?: string, keyPrefix?: string, param?: string) =>
    scheme ? `${scheme} ${REDACTED}` : keyPrefix ? `${keyPrefix}${REDACTED}` : param ? `${param}${REDACTED}` : REDACTED,
  );
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

export interface CreateLoggerOptions {
  level: string;
  /** Where lines go; stdout when absent (tests pass a stream to read them). */
  destination?: DestinationStream;
  /** Human-readable output; defaults to "stdout is a terminal". Ignored when a destination is given. */
  pretty?: boolean;
  /** Configured secret values (provider keys, METRICS_TOKEN, …) that must never appear in a line. */
  secrets?: readonly string[];
  /** Extra pino options, merged over Easel's. */
  options?: LoggerOptions;
}

export async function createLogger(options: CreateLoggerOptions): Promise<Logger> {
  // Short secrets would blank out ordinary words; real keys and tokens are long.
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const pinoOptions: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: { streamWrite: (line) => redactSecrets(line, secrets) },
    ...options.options,
  };
  const destination = options.destination ?? ((options.pretty ?? process.stdout.isTTY === true) ? await prettyStdout() : undefined);
  return destination ? pino(pinoOptions, destination) : pino(pinoOptions);
}

/** pino-pretty writing to stdout, or undefined when it is not installed (a production install without dev tools). */
async function prettyStdout(): Promise<DestinationStream | undefined> {
  try {
    const { default: pretty } = await import('pino-pretty');
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

/**
 * Fastify's request lines, replaced by one line per answered request with its id (bound by Fastify as
 * reqId), the user, the route pattern, status and latency. Pass an instance as Fastify's logController.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {
    // Nothing: the completion line says all, once.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      route: request.routeOptions.url,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
      userId: request.principal?.userId,
    };
    if (error) request.log.error({ ...line, err: error }, 'request errored');
    else request.log.info(line, 'request completed');
  }
}
