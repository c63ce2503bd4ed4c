/**
 * Keeping what loggers write, for tests that prove no secret is ever logged: a fresh logger with Grantflow's
 * redaction whose lines the test keeps, and a tap on an existing logger (the shared test logger, which the worker
 * and the Temporal SDK log to). pino writes to its stream directly, so capturing process.stdout would miss it.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { baseLoggerOptions } from '../../core/logger';

/** A logger like core/logger's createLogger (same redaction and scrubbing), at debug, whose output goes into `into`. */
export function capturingLogger(into: string[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      into.push(chunk.toString());
      done();
    },
  });
  return pino({ ...baseLoggerOptions(), name: 'grantflow', level: 'debug' }, sink);
}

/**
 * Takes what an existing pino logger writes into `into` instead of its stream, at `level` meanwhile (debug by
 * default, so that every line a secret could hide in is seen). Returns the undo.
 */
export function tapLogger(log: Logger, into: string[], level = 'debug'): () => void {
  const stream = (log as unknown as Record<symbol, { write: (s: string) => boolean }>)[
    pino.symbols.streamSym
  ];
  const write = stream.write;
  const priorLevel = log.level;
  log.level = level;
  stream.write = (s: string) => {
    into.push(s);
    return true;
  };
  return () => {
    stream.write = write;
    log.level = priorLevel;
  };
}
