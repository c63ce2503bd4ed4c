/**
 * The one logger: pino, structured JSON in production, human-readable in dev (GRANTFLOW_LOG_PRETTY=1 or a TTY),
 * with secrets redacted wherever they appear under a known key.
 */
import pino, { type Logger } from 'pino';

/** Keys whose values are never logged, at any depth pino can address. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  '*.*.token',
  'apiKey',
  '*.apiKey',
  'url',
  '*.url',
  'connectionString',
  '*.connectionString',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
];

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
      name,
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
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
