/**
 * `grantflow tokens create|list|revoke`: API tokens for scripts calling the HTTP API. A new token is printed
 * once; the store keeps only its hash. Creating and revoking are audited, never with the token.
 */
import type { Command } from 'commander';
import { issueToken, revokeToken } from '../../core/tokens';
import type { ApiTokenRow } from '../../store/types';
import {
  actorFrom,
  applyDevDefaults,
  loadConfigFrom,
  openStoreFromEnv,
  type GlobalOptions,
} from '../context';

type Globals = () => GlobalOptions;

function tokenLine(t: ApiTokenRow): string {
  const state = t.revokedAt ? `revoked ${t.revokedAt}` : 'active';
  const used = t.lastUsedAt ? `last used ${t.lastUsedAt}` : 'never used';
  return `${t.id}  ${t.email}  ${t.name ?? '-'}  ${state}  created ${t.createdAt} by ${t.createdBy}  ${used}`;
}

export function registerTokenCommands(program: Command, globals: Globals): void {
  const tokens = program.command('tokens').description('API tokens for scripts calling the HTTP API');
  tokens
    .command('create')
    .description('issue a token acting as --as (or GRANTFLOW_USER); it is shown only once')
    .option('--name <name>', 'a label saying what the token is for')
    .option('--json', 'print JSON')
    .action(async (o: { name?: string; json?: boolean }) => {
      applyDevDefaults();
      const config = loadConfigFrom(globals());
      const actor = actorFrom(globals(), config);
      const store = await openStoreFromEnv();
      try {
        const { id, token } = await issueToken(
          { store, config: () => config },
          { email: actor.email, name: o.name, createdBy: actor.email },
        );
        await store.appendAudit({
          eventKey: `token.created:${id}`,
          type: 'token.created',
          actor: actor.email,
          channel: 'cli',
          details: { tokenId: id, email: actor.email, name: o.name ?? null, osUser: actor.osUser ?? null },
        });
        if (o.json) console.log(JSON.stringify({ id, email: actor.email, name: o.name ?? null, token }));
        else {
          console.log(`token ${id} for ${actor.email}:`);
          console.log(token);
          console.log('Copy it now: it will not be shown again.');
        }
      } finally {
        await store.close();
      }
    });
  tokens
    .command('list')
    .description('list API tokens (never the tokens themselves)')
    .option('--user <email>', 'only the tokens acting as this person')
    .option('--json', 'print JSON')
    .action(async (o: { user?: string; json?: boolean }) => {
      applyDevDefaults();
      const store = await openStoreFromEnv();
      try {
        const rows = await store.listApiTokens(o.user);
        if (o.json) console.log(JSON.stringify(rows));
        else if (rows.length === 0) console.log('no API tokens');
        else for (const t of rows) console.log(tokenLine(t));
      } finally {
        await store.close();
      }
    });
  tokens
    .command('revoke <id>')
    .description('revoke an API token at once')
    .action(async (id: string) => {
      applyDevDefaults();
      const config = loadConfigFrom(globals());
      const actor = actorFrom(globals(), config);
      const store = await openStoreFromEnv();
      try {
        await revokeToken(store, id);
        await store.appendAudit({
          eventKey: `token.revoked:${id}`,
          type: 'token.revoked',
          actor: actor.email,
          channel: 'cli',
          details: { tokenId: id, osUser: actor.osUser ?? null },
        });
        console.log(`revoked ${id}`);
      } finally {
        await store.close();
      }
    });
}
