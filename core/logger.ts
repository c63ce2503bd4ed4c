/**
 * The one logger: pino, one JSON object per line in production, human-readable in dev (GRANTFLOW_LOG_PRETTY=1 or a
 * TTY). Secrets never reach a line: values under known keys are redacted (REDACT_PATHS, three levels deep), and
 * every string logged, the message included, loses what looks like a credential (scrubSecrets): the password of a
 * URL, `password=` pairs, bearer and basic credentials, Slack tokens and Grantflow API tokens (child bindings are
 * redacted by key only).
 * docs/observability.md describes the format and the fields.
 */
import pino, { type Logger, type LoggerOptions as PinoOptions } from 'pino';

/** Keys whose values are never logged, wherever they appear (top level, and two levels down). */
const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'apiToken',
  'accessToken',
  'refreshToken',
  'idToken',
  'botToken',
  'appToken',
  'signingSecret',
  'clientSecret',
  'client_secret',
  'appPassword',
  'MicrosoftAppPassword',
  'secretAccessKey',
  'sessionToken',
  'privateKey',
  'credentials',
  'sealed',
  'url',
  'connectionString',
  'databaseUrl',
  'DATABASE_URL',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-grantflow-signature',
  // A Temporal activity's task token completes or fails it: the SDK's own lines carry it.
  'taskToken',
];

function pathsFor(key: string): string[] {
  const plain = /^[A-Za-z_$][\w$]*$/.test(key);
  const tail = plain ? `.${key}` : `[${JSON.stringify(key)}]`;
  return [plain ? key : `[${JSON.stringify(key)}]`, `*${tail}`, `*.*${tail}`];
}

/** Paths whose values are never logged, at any depth pino can address cheaply (three levels). */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap(pathsFor);

/** What a secret in a string is replaced with. */
const CENSOR = '[redacted]';

const SECRET_PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host — the password goes, the rest stays useful.
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@'"]*):[^\s@/'"]*@/gi, '$1:***@'],
  // password=… in key/value connection strings and query strings.
  [/\b((?:password|passwd|pwd|secret|token|access_token|client_secret)=)[^\s&;'"]+/gi, `$1${CENSOR}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, `$1 ${CENSOR}`],
  // Slack bot, user, app and refresh tokens.
  [/\bxox[abposre]-[A-Za-z0-9-]+/g, CENSOR],
  [/\bxapp-[A-Za-z0-9-]+/g, CENSOR],
  // Grantflow API tokens (core/tokens.ts): gft_ and 43 base64url characters. Temporary users named gft_… are
  // lowercase, and stay.
  [/\bgft_(?=[\w-]{0,42}[A-Z])[\w-]{43}(?![\w-])/g, CENSOR],
];
/** A cheap test for whether a string could hold anything SECRET_PATTERNS removes. */
const MAYBE_SECRET = /:\/\/|=|bearer|basic|xox|xapp-|gft_/i;

/** Removes what looks like a credential from a text (connection URLs, tokens, `password=` pairs). */
export function scrubSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Deep copy of a logged object with every string scrubbed. Only plain objects and arrays are walked: errors go to
 * the `err` serializer (scrubbed below), other class instances to pino's serializers.
 */
function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1, seen);
  return out;
}

/** pino's error serializer, with the message, the stack and every string field scrubbed. */
function scrubbedErr(err: unknown): unknown {
  const serialized = pino.stdSerializers.err(err as Error) as unknown;
  if (serialized === null || typeof serialized !== 'object') return scrubValue(serialized, 0, new WeakSet());
  const fields = serialized as Record<string, unknown>;
  for (const key of Object.keys(fields)) fields[key] = scrubValue(fields[key], 1, new WeakSet());
  return fields;
}

/**
 * pino options every Grantflow logger shares: redaction by key (fields and child bindings), and scrubbing of the
 * message, of every string field and of errors (child bindings are not scrubbed: bind ids, not free text).
 * Test helpers that build their own pino can use this too.
 */
export function baseLoggerOptions(): PinoOptions {
  return {
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { err: scrubbedErr },
    formatters: {
      log: (object) => scrubValue(object, 0, new WeakSet()) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed: unknown[] = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a));
        // log.error(err) alone: pino would take the message from the error, unscrubbed.
        if (scrubbed.length === 1 && scrubbed[0] instanceof Error)
          scrubbed.push(scrubSecrets(scrubbed[0].message));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
}

function wantsPretty(): boolean {
  const flag = process.env.GRANTFLOW_LOG_PRETTY;
  if (flag !== undefined) return flag === '1' || flag === 'true';
  return Boolean(process.stdout.isTTY) && process.env.NODE_ENV !== 'production';
}

export interface LoggerOptions {
  /** Level when GRANTFLOW_LOG_LEVEL is unset. @default 'info' */
  level?: string;
  /** Write to stderr, keeping stdout for a command's output (the CLI). @default false */
  stderr?: boolean;
}

export function createLogger(name = 'grantflow', options: LoggerOptions = {}): Logger {
  const level = process.env.GRANTFLOW_LOG_LEVEL ?? process.env.LOG_LEVEL ?? options.level ?? 'info';
  const pretty = wantsPretty();
  return pino(
    {
      ...baseLoggerOptions(),
      name,
      level,
      transport: pretty
        ? {
            target: 'pino-pretty',
            options: {
              colorize: true,
              ignore: 'pid,hostname',
              translateTime: 'HH:MM:ss',
              destination: options.stderr ? 2 : 1,
            },
          }
        : undefined,
    },
    pretty ? undefined : pino.destination({ dest: options.stderr ? 2 : 1, sync: Boolean(options.stderr) }),
  );
}

/** A process-wide logger for code that has no injected one. */
export const logger: Logger = createLogger();

/** Removes credentials from a connection URL so it can be shown or logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
