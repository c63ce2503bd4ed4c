/**
 * The OAuth `state` of "Connect Slack": signed with SLACK_STATE_SECRET and dated (Bolt's ClearStateStore, ten
 * minutes), and usable once. Each state handed out is remembered (its SHA-256) until it is used or expires;
 * verifying a state removes it, so a state replayed — from a leaked URL, a browser's history, a second tab —
 * completes no second install. A state Grantflow never issued fails the signature first.
 */
import { createHash } from 'node:crypto';
import { ClearStateStore, InvalidStateError, type InstallURLOptions, type StateStore } from '@slack/oauth';
import type { Knex } from 'knex';

const TABLE = 'slack_oauth_states';
/** How long a state is good for; also the state cookie's Max-Age. */
export const STATE_TTL_SECONDS = 600;

export class OneTimeStateStore implements StateStore {
  private readonly signed: ClearStateStore;

  constructor(
    private readonly knex: Knex,
    stateSecret: string,
    private readonly ttlSeconds = STATE_TTL_SECONDS,
  ) {
    this.signed = new ClearStateStore(stateSecret, ttlSeconds);
  }

  async generateStateParam(installOptions: InstallURLOptions, now: Date): Promise<string> {
    const state = await this.signed.generateStateParam(installOptions, now);
    // Forget states nobody came back with, so the table stays small.
    await this.knex(TABLE).where('expires_at', '<', now.toISOString()).delete();
    await this.knex(TABLE).insert({
      state_hash: hash(state),
      expires_at: new Date(now.getTime() + this.ttlSeconds * 1000).toISOString(),
    });
    return state;
  }

  async verifyStateParam(now: Date, state: string): Promise<InstallURLOptions> {
    // Signature and age first: a forged state costs no database write.
    const options = await this.signed.verifyStateParam(now, state);
    const used = await this.knex(TABLE)
      .where('state_hash', hash(state))
      .andWhere('expires_at', '>=', now.toISOString())
      .delete();
    if (used !== 1) throw new InvalidStateError('The state parameter was used already, or has expired');
    return options;
  }
}

function hash(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}
