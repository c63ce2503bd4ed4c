/**
 * Request commands: request, approve, deny, revoke, extend, cancel, status, list.
 */
import type { Command } from 'commander';
import { createRequest } from '../../core/create-request';
import { InvalidInputError } from '../../core/errors';
import {
  cancelRequest,
  decideRequest,
  extendRequest,
  getRequest,
  revokeRequest,
  waitForSettled,
} from '../../core/request-actions';
import { parseDuration } from '../../policy/duration';
import type { RequestStatus } from '../../workflows/definitions';
import { actorFrom, openContext, type CliContext, type GlobalOptions } from '../context';
import { rowsText, viewJson, viewText } from '../output';

type Globals = () => GlobalOptions;

async function withContext<T>(globals: Globals, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(globals());
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function durationOption(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new InvalidInputError(`--${field} "${text}" is not a duration (use e.g. 30m, 1h)`, field);
  return ms;
}

export function registerRequestCommands(program: Command, globals: Globals): void {
  program
    .command('request')
    .description('ask for temporary access')
    .requiredOption('--flow <name>', 'access flow')
    .requiredOption('--resource <name>', 'resource')
    .requiredOption('--permission <name>', 'permission')
    .option('--duration <duration>', "how long, e.g. 1h (default: the flow's default)")
    .option('--reason <text>', 'justification', '')
    .option('--idempotency-key <key>', 'the same key returns the same request')
    .option('--wait', 'return once the request is ACTIVE or resolved')
    .option('--wait-timeout <duration>', 'give up waiting after this long', '10m')
    .option('--json', 'print one JSON object')
    .action(async (o) =>
      withContext(globals, async (ctx) => {
        const actor = actorFrom(globals(), ctx.config());
        const { request, existing } = await createRequest(ctx, actor, {
          flow: o.flow,
          resource: o.resource,
          permission: o.permission,
          durationMs: durationOption(o.duration, 'duration'),
          reason: o.reason,
          idempotencyKey: o.idempotencyKey,
        });
        const view = o.wait
          ? await waitForSettled(ctx, request.id, durationOption(o.waitTimeout, 'wait-timeout') ?? 600_000)
          : await getRequest(ctx, request.id).catch(() => undefined);
        if (o.json) {
          const base = view ? viewJson(view) : { ...request, expiresAt: request.expiresAt ?? null };
          console.log(JSON.stringify({ ...base, existing }));
        } else {
          if (existing) console.log(`An identical request already exists: ${request.id}`);
          console.log(view ? viewText(view) : `${request.id}  ${request.status}`);
        }
      }),
    );

  for (const decision of ['approve', 'deny'] as const) {
    program
      .command(`${decision} <id>`)
      .description(decision === 'approve' ? 'approve a pending request' : 'deny a pending request')
      .option(decision === 'approve' ? '--comment <text>' : '--reason <text>', 'why')
      .option('--json', 'print one JSON object')
      .action(async (id: string, o) =>
        withContext(globals, async (ctx) => {
          if (decision === 'deny' && !o.reason) throw new InvalidInputError('deny needs --reason', 'reason');
          const actor = actorFrom(globals(), ctx.config());
          const view = await decideRequest(ctx, actor, id, decision, o.comment ?? o.reason);
          console.log(o.json ? JSON.stringify(viewJson(view)) : viewText(view));
        }),
      );
  }

  program
    .command('extend <id>')
    .description('extend an active grant')
    .requiredOption('--by <duration>', 'how much longer, e.g. 30m')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withContext(globals, async (ctx) => {
        const actor = actorFrom(globals(), ctx.config());
        const view = await extendRequest(ctx, actor, id, durationOption(o.by, 'by') as number);
        console.log(o.json ? JSON.stringify(viewJson(view)) : viewText(view));
      }),
    );

  program
    .command('revoke <id>')
    .description('end an active grant now')
    .option('--reason <text>', 'why')
    .option('--wait', 'return once access is revoked')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withContext(globals, async (ctx) => {
        const actor = actorFrom(globals(), ctx.config());
        let view = await revokeRequest(ctx, actor, id, o.reason);
        if (o.wait) view = await waitForSettled(ctx, id, 600_000);
        console.log(o.json ? JSON.stringify(viewJson(view)) : viewText(view));
      }),
    );

  program
    .command('cancel <id>')
    .description('withdraw a pending request')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withContext(globals, async (ctx) => {
        const actor = actorFrom(globals(), ctx.config());
        const view = await cancelRequest(ctx, actor, id);
        console.log(o.json ? JSON.stringify(viewJson(view)) : viewText(view));
      }),
    );

  program
    .command('status <id>')
    .description('show one request')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withContext(globals, async (ctx) => {
        const view = await getRequest(ctx, id);
        console.log(o.json ? JSON.stringify(viewJson(view)) : viewText(view));
      }),
    );

  program
    .command('list')
    .description('list requests, newest first')
    .option('--status <status>', 'only this status (e.g. ACTIVE, PENDING_APPROVAL)')
    .option('--requester <email>', "only this person's requests")
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print a JSON array')
    .action(async (o) =>
      withContext(globals, async (ctx) => {
        const rows = await ctx.store.listRequests({
          status: o.status ? (String(o.status).toUpperCase() as RequestStatus) : undefined,
          requester: o.requester?.toLowerCase(),
          limit: Number(o.limit),
        });
        console.log(o.json ? JSON.stringify(rows) : rowsText(rows));
      }),
    );
}
