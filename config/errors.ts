/**
 * Errors raised while finding, loading and explaining grantflow.yaml.
 * Each has a stable `code` so the CLI and API can react without parsing messages.
 */

/** A step into the YAML document: a map key or a sequence index. */
export type PathSegment = string | number;

/** One thing wrong with the config, located so that an editor can jump to it. */
export interface ConfigIssue {
  /** The config file as it was given (relative paths stay relative, which reads better in a terminal). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The field, e.g. `flows[1].maxDuration`; empty for a YAML syntax error. */
  path: string;
  /** Plain words: what is wrong and, where it helps, how to fix it. */
  message: string;
}

/**
 * A problem found by the schema, the cross-field checks or secret resolution, before it is located in the file.
 * `atKey` points at the key itself rather than its value (used for unknown keys).
 */
export interface FieldProblem {
  path: PathSegment[];
  message: string;
  atKey?: boolean;
}

/** Formats a path as people write it: `flows[1].maxDuration`, `integrations["my.db"].url`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `grantflow.yaml:12:5: flows[0].maxDuration: "9x" is not a duration (use e.g. 30m, 1h, 8h)` */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** The config file is not valid: YAML syntax, schema, cross-field checks or secret references. Lists every issue. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** No config file was given or found, or the one named cannot be read. */
export class ConfigFileError extends Error {
  readonly code = 'CONFIG_FILE';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/** `flows explain` (or a request) named an email that is not among the config's identities. */
export class UnknownIdentityError extends Error {
  readonly code = 'UNKNOWN_IDENTITY';
  constructor(readonly email: string) {
    super(
      `${email} is not an identity in the config: add it under "identities:" in grantflow.yaml ` +
        `(with its groups and accounts) before it can request or approve access`,
    );
    this.name = 'UnknownIdentityError';
  }
}
