/**
 * The Slack card on the Integrations page: whether Slack is on, which workspace and bot, where the token comes
 * from, and Connect (a full-page trip through Slack's consent page) or Disconnect (revokes the token in Slack).
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import type { SlackStatus } from '../types';
import { ErrorBox } from './states';
import { When } from './When';

const STATE_WORDS: Record<SlackStatus['state'], [string, 'good' | 'done' | 'bad']> = {
  active: ['Active', 'good'],
  off: ['Off', 'done'],
  error: ['Error', 'bad'],
};

const SOURCE_WORDS: Record<SlackStatus['source'], string> = {
  oauth: 'Connected with Slack (OAuth)',
  environment: 'SLACK_BOT_TOKEN environment variable',
  none: 'No token',
};

/** "Acme (T0123)", or just the id when Slack gave no name. */
export function workspaceName(slack: SlackStatus): string | undefined {
  const i = slack.installation;
  if (!i) return undefined;
  return i.teamName ? `${i.teamName} (${i.teamId})` : i.teamId;
}

/** What Slack looks like after a disconnect, in one sentence. */
function afterDisconnect(slack: SlackStatus): string {
  if (slack.state === 'active' && slack.source === 'environment')
    return 'Disconnected. Grantflow now uses the SLACK_BOT_TOKEN environment variable.';
  if (slack.state === 'off')
    return 'Disconnected. Slack is now off: nobody gets Slack messages from Grantflow.';
  return `Disconnected. ${slack.message ?? 'Slack reports a problem; see its status above.'}`;
}

export function SlackCard({ slack, onChange }: { slack: SlackStatus; onChange: (s: SlackStatus) => void }) {
  const [word, tone] = STATE_WORDS[slack.state];
  const i = slack.installation;
  return (
    <section className="card" aria-labelledby="slack-h" data-testid="slack-card">
      <div className="heading">
        <h2 id="slack-h">Slack</h2>
        <span className={`badge badge-${tone}`} data-testid="slack-status" data-state={slack.state}>
          {word}
        </span>
      </div>
      {slack.message && <p className={slack.state === 'error' ? 'error' : 'hint'}>{slack.message}</p>}
      <dl className="facts">
        {i && (
          <>
            <dt>Workspace</dt>
            <dd className="wrap" data-testid="slack-workspace">
              {workspaceName(slack)}
              {i.enterpriseId && (
                <div className="muted">
                  Enterprise Grid:{' '}
                  {i.enterpriseName ? `${i.enterpriseName} (${i.enterpriseId})` : i.enterpriseId}
                </div>
              )}
            </dd>
            {i.botUserId && (
              <>
                <dt>Bot user</dt>
                <dd className="mono wrap">
                  {i.botUserId}
                  {i.botId && <span className="muted"> (bot {i.botId})</span>}
                </dd>
              </>
            )}
            <dt>Scopes</dt>
            <dd>
              {i.scopes.length ? (
                <ul className="scopes" aria-label="Granted scopes">
                  {i.scopes.map((s) => (
                    <li key={s}>{s}</li>
                  ))}
                </ul>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Connected by</dt>
            <dd className="wrap">
              {i.installedBy}, <When at={i.installedAt} />
            </dd>
            <dt>Encrypted with</dt>
            <dd>
              key{' '}
              <span className="mono" data-testid="slack-key-id">
                {i.keyId}
              </span>
            </dd>
          </>
        )}
        <dt>Token</dt>
        <dd data-testid="slack-source" data-source={slack.source}>
          {SOURCE_WORDS[slack.source]}
        </dd>
        <dt>Events</dt>
        <dd>{slack.mode === 'socket' ? 'Socket Mode' : 'over HTTP (POST /slack/events)'}</dd>
      </dl>
      {i && slack.environmentToken && (
        <p className="hint">
          SLACK_BOT_TOKEN is also set. The connected workspace wins; the variable is used again if you
          disconnect.
        </p>
      )}
      <SlackActions slack={slack} onChange={onChange} />
    </section>
  );
}

function SlackActions({ slack, onChange }: { slack: SlackStatus; onChange: (s: SlackStatus) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const keepRef = useRef<HTMLButtonElement>(null);
  const disconnectRef = useRef<HTMLButtonElement>(null);
  // The button pressed disappears: put focus on the safe choice, and back on Disconnect when it returns.
  const [focusAfter, setFocusAfter] = useState(false);
  useEffect(() => {
    if (!focusAfter) return;
    (confirming ? keepRef : disconnectRef).current?.focus();
  }, [confirming, focusAfter]);

  const ask = (yes: boolean) => {
    setFocusAfter(true);
    setConfirming(yes);
  };
  const disconnect = async () => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const { slack: next } = await api<{ slack: SlackStatus }>(
        '/api/v1/admin/integrations/slack/disconnect',
        {
          method: 'POST',
        },
      );
      setConfirming(false);
      setFocusAfter(false);
      setDone(afterDisconnect(next));
      onChange(next);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(false);
    }
  };

  const i = slack.installation;
  return (
    <div className="slack-actions">
      {done && (
        <p className="done" role="status">
          {done}
        </p>
      )}
      {error && <ErrorBox error={error} />}
      {slack.oauthAvailable ? (
        <>
          <a className={`button${i ? '' : ' primary'}`} href="/slack/install">
            {i ? 'Reconnect Slack' : 'Connect Slack'}
          </a>
          <p className="hint">
            {i
              ? 'Reconnect after the app asks for new scopes. To move to another workspace, disconnect first.'
              : slack.source === 'environment'
                ? 'Connecting replaces the SLACK_BOT_TOKEN token with one the workspace grants here.'
                : 'Slack asks a workspace admin to approve the app, then brings you back here.'}
          </p>
        </>
      ) : (
        <p className="hint" data-testid="slack-oauth-missing">
          Connect with Slack is not set up: set{' '}
          {slack.oauthMissing.map((v, n) => (
            <span key={v}>
              {n > 0 && (n === slack.oauthMissing.length - 1 ? ' and ' : ', ')}
              <span className="mono">{v}</span>
            </span>
          ))}
          {slack.oauthMissing.length === 0 && 'the Slack OAuth variables'} on the server. See{' '}
          <span className="mono">docs/integrations.md</span>.
        </p>
      )}
      {i &&
        (confirming ? (
          <div className="inline" role="group" aria-label="Confirm disconnect">
            <span>
              Disconnect {workspaceName(slack)}? Grantflow revokes its bot token in Slack and forgets it.{' '}
              {slack.environmentToken
                ? 'The SLACK_BOT_TOKEN environment variable is used instead.'
                : 'Slack will be off until someone connects it again.'}
            </span>
            <button type="button" className="danger" disabled={busy} onClick={() => void disconnect()}>
              {busy ? 'Disconnecting…' : 'Yes, disconnect'}
            </button>
            <button type="button" ref={keepRef} disabled={busy} onClick={() => ask(false)}>
              Keep it connected
            </button>
          </div>
        ) : (
          <button type="button" className="danger" ref={disconnectRef} onClick={() => ask(true)}>
            Disconnect Slack
          </button>
        ))}
    </div>
  );
}
