/**
 * Holds the config in force, reloads it on demand (SIGHUP), and writes every loaded change to the audit
 * log with its diff. A file that fails validation is refused and the config in force stays.
 */
import type { Logger } from 'pino';
import { diffConfigs } from '../config/diff';
import { loadConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import type { Store } from '../store/types';

export class ConfigHolder {
  private config: GrantflowConfig;

  constructor(
    private readonly file: string,
    private readonly store: Store,
    private readonly log: Logger,
    initial?: GrantflowConfig,
  ) {
    this.config = initial ?? loadConfig(file);
  }

  readonly current = (): GrantflowConfig => this.config;

  /** Records the config in force at start if it differs from the last one recorded. */
  async recordInitial(actor = 'grantflow'): Promise<void> {
    const [last] = await this.store.listAudit({ type: 'config.loaded', last: 1 });
    const previous = last?.details as { version?: string; text?: string } | undefined;
    if (previous?.version === this.config.version) return;
    await this.record(previous?.text ?? '', actor);
  }

  /** Loads the file again; returns whether anything changed. Throws (and keeps the old config) when invalid. */
  async reload(actor = 'grantflow'): Promise<boolean> {
    const next = loadConfig(this.file);
    if (next.version === this.config.version) return false;
    const previousText = this.config.text;
    this.config = next;
    await this.record(previousText, actor);
    this.log.info({ version: next.version, file: next.file }, 'config reloaded');
    return true;
  }

  /** Reloads on SIGHUP; returns a function that stops listening. */
  watchSighup(): () => void {
    const onHup = () => {
      this.reload('sighup').catch((err) =>
        this.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'config reload refused; keeping the config in force',
        ),
      );
    };
    process.on('SIGHUP', onHup);
    return () => process.off('SIGHUP', onHup);
  }

  private async record(previousText: string, actor: string): Promise<void> {
    await this.store.appendAudit({
      eventKey: `config:${this.config.version}:${Date.now()}`,
      type: 'config.loaded',
      actor,
      channel: 'config',
      details: {
        version: this.config.version,
        file: this.config.file,
        diff: diffConfigs(previousText, this.config.text),
        text: this.config.text,
      },
    });
  }
}
