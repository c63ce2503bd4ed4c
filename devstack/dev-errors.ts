/** Errors of `grantflow dev`'s orchestration (devstack/dev.ts, devstack/ports.ts). */

/** A port the dev stack must own is taken; the message names the variable that moves it. */
export class PortTakenError extends Error {
  readonly code = 'PORT_TAKEN';
  constructor(
    readonly port: number,
    readonly envName: string,
  ) {
    super(`port ${port} is already in use; stop what holds it, or set ${envName} to another port`);
    this.name = 'PortTakenError';
  }
}

/** Another `grantflow dev` already runs on this data folder. */
export class DevAlreadyRunningError extends Error {
  readonly code = 'DEV_ALREADY_RUNNING';
  constructor(
    readonly pid: number,
    dataDir: string,
  ) {
    super(
      `grantflow dev is already running (pid ${pid}) on ${dataDir}; stop it first, or set GRANTFLOW_DATA_DIR`,
    );
    this.name = 'DevAlreadyRunningError';
  }
}
