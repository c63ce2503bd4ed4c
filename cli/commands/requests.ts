/**
 * Request commands: request, approve, deny, revoke, extend, cancel, status, list. Each runs against a
 * RequestBackend: the HTTP API in API mode (GRANTFLOW_API_URL + GRANTFLOW_TOKEN), else Temporal and the store.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../../core/errors';
import { parseDuration } from '../../policy/duration';
import type { RequestView } from '../../workflows/definitions';
import { openBackend, waitUntilSettled, type RequestBackend } from '../backend';
import type { GlobalOptions } from '../context';
import { rowsText, viewJson, viewText } from '../output';

type Globals = () => GlobalOptions;

async function withBackend<T>(globals: Globals, fn: (b: RequestBackend) => Promise<T>): Promise<T> {
  const backend = await openBackend(globals());
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** Checks a duration option here, so bad input fails the same way (exit 2) in both modes. */
function durationOption(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new InvalidInputError(`--${field} "${text}" is not a duration (use e.g. 30m, 1h)`, field);
  return ms;
}

function printView(view: RequestView, json: boolean | undefined): void {
  console.log(json ? JSON.stringify(viewJson(view)) : viewText(view));
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
      withBackend(globals, async (backend) => {
        durationOption(o.duration, 'duration');
        const waitMs = durationOption(o.waitTimeout, 'wait-timeout') ?? 600_000;
        const { request, existing } = await backend.create({
          flow: o.flow,
          resource: o.resource,
          permission: o.permission,
          duration: o.duration,
          reason: o.reason,
          idempotencyKey: o.idempotencyKey,
        });
        const view = o.wait
          ? await waitUntilSettled(backend, request.id, waitMs)
          : await backend.get(request.id).catch(() => undefined);
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
        withBackend(globals, async (backend) => {
          if (decision === 'deny' && !o.reason) throw new InvalidInputError('deny needs --reason', 'reason');
          printView(await backend.decide(id, decision, o.comment ?? o.reason), o.json);
        }),
      );
  }

  program
    .command('extend <id>')
    .description('extend an active grant')
    .requiredOption('--by <duration>', 'how much longer, e.g. 30m')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withBackend(globals, async (backend) => {
        durationOption(o.by, 'by');
        printView(await backend.extend(id, o.by), o.json);
      }),
    );

  program
    .command('revoke <id>')
    .description('end an active grant now')
    .option('--reason <text>', 'why')
    .option('--wait', 'return once access is revoked')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withBackend(globals, async (backend) => {
        let view = await backend.revoke(id, o.reason);
        if (o.wait) view = await waitUntilSettled(backend, id, 600_000);
        printView(view, o.json);
      }),
    );

  program
    .command('cancel <id>')
    .description('withdraw a pending request')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withBackend(globals, async (backend) => printView(await backend.cancel(id), o.json)),
    );

  program
    .command('status <id>')
    .description('show one request')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withBackend(globals, async (backend) => printView(await backend.get(id), o.json)),
    );

  program
    .command('credentials <id>')
    .description('show the sign-in a temporary-user grant made for you (API mode; each read is audited)')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o) =>
      withBackend(globals, async (backend) => {
        const c = await backend.credentials(id);
        console.log(
          o.json
            ? JSON.stringify(c)
            : [
                `user      ${c.username}`,
                `password  ${c.password}`,
                ...(c.connectHint ? [`connect   ${c.connectHint}`] : []),
              ].join('\n'),
        );
      }),
    );

  program
    .command('list')
    .description('list requests, newest first')
    .option('--status <status>', 'only this status (e.g. ACTIVE, PENDING_APPROVAL)')
    .option('--requester <email>', "only this person's requests (operator mode)")
    .option('--scope <scope>', 'API mode: mine, approvals, active or all (default: mine)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print a JSON array')
    .action(async (o) =>
      withBackend(globals, async (backend) => {
        const rows = await backend.list({
          status: o.status,
          requester: o.requester,
          scope: o.scope,
          limit: Number(o.limit),
        });
        console.log(o.json ? JSON.stringify(rows) : rowsText(rows));
      }),
    );
}
