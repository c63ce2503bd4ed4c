/**
 * Integrations (admin): Slack and Teams connections, each connector's health with "Check now", and flows whose
 * notifications go nowhere. Also where Slack's OAuth round trip lands (?slack=connected or ?slack_error=…).
 */
import { useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ConnectorTable } from '../components/ConnectorTable';
import { SlackCard, workspaceName } from '../components/SlackCard';
import { TeamsCard } from '../components/TeamsCard';
import { Loaded } from '../components/states';
import { formatDuration } from '../format';
import { useApi, useTitle } from '../hooks';
import type { IntegrationsOverview, RoutingWarning, SlackStatus } from '../types';

const OVERVIEW_PATH = '/api/v1/admin/integrations';

/**
 * Plain words for the codes /slack/oauth_redirect sends back. Only the code is read from the address: a link
 * anyone can craft must not put its own words on this page.
 */
const SLACK_ERRORS: Record<string, string> = {
  invalid_state:
    'the trip through Slack was not valid any more (used already, expired, or started in another browser). Press Connect Slack again.',
  missing_state: 'Slack sent the browser back without what Grantflow needs. Press Connect Slack again.',
  missing_code: 'Slack sent the browser back without what Grantflow needs. Press Connect Slack again.',
  access_denied: 'the install was cancelled in Slack.',
  other_workspace: 'that is not the workspace already connected. Disconnect it first to switch workspaces.',
  not_admin: 'the person who started it is no longer a Grantflow admin.',
  no_encryption_keys:
    'GRANTFLOW_ENCRYPTION_KEYS is not set on the server Slack sent you back to, so the token could not be stored encrypted.',
  oauth_failed:
    "Slack refused the install. Check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and the app's redirect URL; the server log has Slack's error.",
};

/** The query parameters the OAuth round trip leaves behind; dismissing the banner removes them. */
const BANNER_PARAMS = ['slack', 'slack_error'];

export function IntegrationsPage() {
  useTitle('Integrations');
  const overview = useApi<IntegrationsOverview>(OVERVIEW_PATH, 30000);
  // Disconnect answers with Slack's new status at once; the next refresh of the overview supersedes it.
  const [slackAfter, setSlackAfter] = useState<{ over: IntegrationsOverview; slack: SlackStatus }>();
  const heading = useRef<HTMLHeadingElement>(null);
  const [params, setParams] = useSearchParams();
  /** A change made here supersedes what the last trip through Slack said. */
  const forgetTrip = () => {
    if (!BANNER_PARAMS.some((p) => params.has(p))) return;
    const rest = new URLSearchParams(params);
    for (const p of BANNER_PARAMS) rest.delete(p);
    setParams(rest, { replace: true });
  };
  const slackOf = (o: IntegrationsOverview) => (slackAfter?.over === o ? slackAfter.slack : o.slack);
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Integrations
      </h1>
      <p className="lead">
        Where Grantflow sends notifications and what it grants access with. This page refreshes every 30
        seconds.
      </p>
      <OAuthBanner
        workspace={overview.data && workspaceName(slackOf(overview.data))}
        onDismiss={() => heading.current?.focus()}
      />
      <Loaded what="integrations" {...overview}>
        {(o) => (
          <>
            <div className="chat-cards">
              <SlackCard
                slack={slackOf(o)}
                onChange={(slack) => {
                  forgetTrip();
                  setSlackAfter({ over: o, slack });
                }}
              />
              <TeamsCard teams={o.teams} />
            </div>
            <section aria-labelledby="connectors-h">
              <h2 id="connectors-h">Connectors</h2>
              <p className="hint">
                {o.checkIntervalSeconds > 0
                  ? `Grantflow checks every connector every ${formatDuration(o.checkIntervalSeconds * 1000)}.`
                  : 'Grantflow checks connectors only when you press Check now.'}
              </p>
              {o.connectors.length ? (
                <ConnectorTable connectors={o.connectors} />
              ) : (
                <p className="state empty">No connectors are configured in grantflow.yaml.</p>
              )}
            </section>
            <Routing warnings={o.routing} />
          </>
        )}
      </Loaded>
    </section>
  );
}

/** What came back from Slack's consent page, until dismissed. */
function OAuthBanner({ workspace, onDismiss }: { workspace?: string; onDismiss: () => void }) {
  const [params, setParams] = useSearchParams();
  const connected = params.get('slack') === 'connected';
  const code = params.get('slack_error');
  if (!connected && !code) return null;
  const dismiss = () => {
    const rest = new URLSearchParams(params);
    for (const p of BANNER_PARAMS) rest.delete(p);
    setParams(rest, { replace: true });
    onDismiss();
  };
  const button = (
    <button type="button" onClick={dismiss}>
      Dismiss
    </button>
  );
  if (code) {
    // The text arrives in the address bar, so anyone could craft it: shown as plain text, and kept short.
    const message = SLACK_ERRORS[code] ?? 'Slack reported an error; the server log has the details.';
    return (
      <div className="error banner" role="alert" data-testid="slack-oauth-banner">
        <p>
          <strong>Slack was not connected:</strong> {message}
        </p>
        <p className="hint">
          Error code: <span className="mono wrap">{code.slice(0, 100)}</span>
        </p>
        {button}
      </div>
    );
  }
  return (
    <div className="done banner" role="status" data-testid="slack-oauth-banner">
      <p>{workspace ? `Slack is connected to ${workspace}.` : 'Slack is connected.'}</p>
      {button}
    </div>
  );
}

const PLATFORM_WORDS: Record<RoutingWarning['platform'], string> = {
  slack: 'Slack',
  teams: 'Microsoft Teams',
};

function Routing({ warnings }: { warnings: RoutingWarning[] }) {
  return (
    <section aria-labelledby="routing-h">
      <h2 id="routing-h">Notification routing</h2>
      <div data-testid="routing-warnings" data-count={warnings.length}>
        {warnings.length === 0 ? (
          <p className="state">Every flow's notifications have somewhere to go.</p>
        ) : (
          <ul className="warnings">
            {warnings.map((w, n) => (
              <li
                key={`${w.platform}-${w.channel ?? ''}-${w.problem}-${n}`}
                className="warning"
                data-problem={w.problem}
              >
                <p className="wrap">{w.message}</p>
                <p className="hint wrap">
                  {w.flows.length === 1 ? 'Flow' : 'Flows'}: {w.flows.join(', ') || '—'} ·{' '}
                  {PLATFORM_WORDS[w.platform]}
                  {w.channel && (
                    <>
                      , channel <span className="mono">{w.channel}</span>
                    </>
                  )}
                </p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
