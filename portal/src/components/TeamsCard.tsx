/**
 * The Microsoft Teams card on the Integrations page: whether the bot is configured, whether Teams is talking to
 * it, whom it can reach, and the app package to upload into Teams.
 */
import type { TeamsStatus } from '../types';
import { When } from './When';

export function TeamsCard({ teams }: { teams: TeamsStatus }) {
  return (
    <section className="card" aria-labelledby="teams-h" data-testid="teams-card">
      <div className="heading">
        <h2 id="teams-h">Microsoft Teams</h2>
        <span
          className={`badge badge-${teams.configured ? 'good' : 'done'}`}
          data-testid="teams-status"
          data-configured={teams.configured}
        >
          {teams.configured ? 'Configured' : 'Not configured'}
        </span>
      </div>
      {teams.message && <p className="hint">{teams.message}</p>}
      {teams.configured ? (
        <dl className="facts">
          <dt>App id</dt>
          <dd className="mono wrap">{teams.appId ?? '—'}</dd>
          <dt>Last activity received</dt>
          <dd>
            <When at={teams.lastActivityAt} never="never" />
          </dd>
          <dt>People reachable</dt>
          <dd>{teams.reachablePeople}</dd>
          <dt>Channels</dt>
          <dd>{teams.channels}</dd>
        </dl>
      ) : (
        !teams.message && (
          <p className="hint">
            Set <span className="mono">MicrosoftAppId</span> and{' '}
            <span className="mono">MicrosoftAppPassword</span> on the server to turn Teams on. See{' '}
            <span className="mono">docs/teams.md</span>.
          </p>
        )
      )}
      {teams.configured && teams.reachablePeople === 0 && (
        <p className="hint">
          The bot can message people only after they talk to it or it is installed for them.
        </p>
      )}
      {teams.packageAvailable && (
        <>
          <a className="button" href="/api/v1/admin/integrations/teams/package" download>
            Download Teams app package
          </a>
          <p className="hint">
            Upload the zip in Teams (Apps → Manage your apps → Upload an app) or in the Teams admin center.
          </p>
        </>
      )}
    </section>
  );
}
