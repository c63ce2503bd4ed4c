/**
 * What `grantflow dev` prints once everything is up: where things are, who you can be, what to try first.
 */
import type { DevState } from '../cli/context';
import type { GrantflowConfig } from '../config/types';
import type { RoutingWarning } from '../server/integrations/types';

interface SeedInfo {
  demoDatabase: string;
  passwords: Record<string, string>;
}

export function printBanner(
  state: DevState,
  config: GrantflowConfig,
  seed: SeedInfo,
  integration: string,
  /** Flows whose notifications would go unseen (the same warnings as `flows validate` and the portal). */
  routing: RoutingWarning[] = [],
): void {
  const pgPort = state.ports.sandboxPostgres;
  const lines = [
    '',
    'Grantflow is running.',
    '',
    `  Portal            ${state.apiUrl}   (development login: pick any demo identity)`,
    `  Integrations      ${state.apiUrl}/admin/integrations   (connect Slack, Teams app package, connector health)`,
    `  API server        ${state.apiUrl}/api/v1   (health: ${state.apiUrl}/healthz, metrics: ${state.apiUrl}/metrics)`,
    `  Temporal Web UI   ${state.temporalUiUrl}   (in-flight grants are workflows there)`,
    `  Temporal          ${state.temporalAddress}, namespace ${state.namespace}`,
    `  Sandbox Postgres  127.0.0.1:${pgPort}, database ${seed.demoDatabase}`,
    `  Config            ${state.configFile}   (kill -HUP ${state.pid} reloads it)`,
    '',
    '  Demo identities (sandbox database logins):',
  ];
  for (const identity of config.identities) {
    const account = identity.accounts[integration];
    const password = account ? seed.passwords[account] : undefined;
    const groups = identity.groups.join(', ') || '-';
    lines.push(
      `    ${identity.email.padEnd(22)} groups: ${groups.padEnd(14)} ${account ? `login ${account} / ${password ?? '?'}` : ''}`,
    );
  }
  const alice = config.identities.find((i) => i.accounts[integration] && i.groups.includes('engineering'));
  if (alice) {
    const account = alice.accounts[integration];
    lines.push(
      '',
      '  Try it (in another terminal):',
      `    npx grantflow --as ${alice.email} request --flow sandbox-readonly --resource ${integration} \\`,
      `      --permission readonly --duration 15m --reason "trying Grantflow" --wait`,
      `    psql "postgres://${account}:${seed.passwords[account] ?? 'PASSWORD'}@127.0.0.1:${pgPort}/${seed.demoDatabase}" -c 'select * from incidents'`,
      '',
      '  Before the grant that query is refused; after it, it works; when the grant expires, it is refused again.',
      `  Or open ${state.apiUrl} in a browser, log in as ${alice.email} and request sandbox-readwrite;`,
      '  log in as a DBA (another browser profile) to approve it.',
    );
  }
  lines.push('', ...routingLines(routing));
  lines.push('', '  Ctrl-C stops everything; `npm start` again resumes in-flight grants.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

/** The banner's notifications section: each warning, or that every flow's notifications go somewhere. */
export function routingLines(routing: RoutingWarning[]): string[] {
  if (routing.length === 0) return ["  Notifications: every flow's notifications have somewhere to go."];
  return ['  Notifications — warnings:', ...routing.map((w) => `    ! ${w.message}`)];
}
