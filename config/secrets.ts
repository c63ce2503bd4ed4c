/**
 * Secret references in grantflow.yaml: `${ENV_NAME}` reads the environment, `${file:PATH}` reads a file
 * (relative to the config file's folder). Secrets never sit in the file itself, so it can live in git:
 * findInlineSecrets rejects a secret written inline.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FieldProblem, PathSegment } from './errors';

/** A parsed reference: an environment variable or a file. */
export type SecretRef = { kind: 'env'; name: string } | { kind: 'file'; path: string };

const REF = /^\$\{(?:file:(.+)|([A-Za-z_][A-Za-z0-9_]*))\}$/;

/** Parses a whole-value reference (`${NAME}` or `${file:PATH}`), or returns undefined when the value is not one. */
export function parseSecretRef(value: string): SecretRef | undefined {
  const match = REF.exec(value.trim());
  if (!match) return undefined;
  return match[1] !== undefined ? { kind: 'file', path: match[1].trim() } : { kind: 'env', name: match[2] };
}

/** Where references are resolved from. */
export interface SecretSource {
  env: NodeJS.ProcessEnv;
  /** Folder of the config file: `${file:…}` paths are relative to it. */
  baseDir: string;
}

/** Resolves one reference; the error text names the variable or file but never any secret content. */
export function resolveSecretRef(
  ref: SecretRef,
  source: SecretSource,
): { value: string } | { error: string } {
  if (ref.kind === 'env') {
    const value = source.env[ref.name];
    if (value === undefined || value === '') {
      return {
        error: `environment variable ${ref.name} is not set (the config refers to it as \${${ref.name}})`,
      };
    }
    return { value };
  }
  const file = resolve(source.baseDir, ref.path);
  try {
    // One trailing newline is what editors and `echo` add; it is never part of the secret.
    return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return { error: `cannot read secret file ${file} (${reason}), referenced as \${file:${ref.path}}` };
  }
}

/**
 * Replaces every string that is wholly a reference, anywhere under `value`, by what it refers to.
 * Returns a new value (the input is not changed) and one problem per reference that could not be resolved.
 */
export function resolveSecrets<T>(
  value: T,
  path: PathSegment[],
  source: SecretSource,
): { value: T; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const walk = (node: unknown, at: PathSegment[]): unknown => {
    if (typeof node === 'string') {
      const ref = parseSecretRef(node);
      if (!ref) return node;
      const resolved = resolveSecretRef(ref, source);
      if ('error' in resolved) {
        problems.push({ path: at, message: resolved.error });
        return node;
      }
      return resolved.value;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...at, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...at, k])]));
    }
    return node;
  };
  return { value: walk(value, path) as T, problems };
}

/** Keys whose values are secrets wherever they appear (e.g. `password`, `botToken`, `signingSecret`, `apiKey`). */
const SECRET_KEY = /(password|secret|token|apikey)$/i;

/**
 * Finds secrets written inline. Runs on the raw document, before the schema, so the error is about the
 * secret (use a reference) rather than anything else. Never repeats the value in the message.
 */
export function findInlineSecrets(raw: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, [...path, i]));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key];
      const isIntegrationUrl = path.length === 2 && path[0] === 'integrations' && key === 'url';
      const isSecret = isIntegrationUrl || SECRET_KEY.test(key);
      if (isSecret && (typeof value !== 'object' || value === null)) {
        if (typeof value !== 'string' || !parseSecretRef(value)) {
          problems.push({
            path: at,
            message:
              'is a secret and must not be written in the file: use a reference, ' +
              '${ENV_NAME} (an environment variable) or ${file:/path/to/secret}',
          });
        }
      } else visit(value, at);
    }
  };
  visit(raw, []);
  return problems;
}
