/** Request access: only what my flows allow, on their terms (default and maximum duration, justification). */
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, post } from '../api';
import { ErrorBox, Loaded } from '../components/states';
import { formatDuration, parseDuration } from '../format';
import { useApi, useTitle } from '../hooks';
import type { ExplainedFlow, Explanation, RequestRow } from '../types';

export function RequestAccessPage() {
  useTitle('Request access');
  const explained = useApi<Explanation>('/api/v1/flows');
  return (
    <section>
      <h1>Request access</h1>
      <Loaded
        what="what you may request"
        {...explained}
        empty={(d) =>
          d.flows.length === 0 &&
          'No access flow lets you request anything. Ask a Grantflow admin to add you to one.'
        }
      >
        {(d) => <RequestForm flows={d.flows} />}
      </Loaded>
    </section>
  );
}

function RequestForm({ flows }: { flows: ExplainedFlow[] }) {
  const navigate = useNavigate();
  const [flowName, setFlowName] = useState(flows[0]?.name ?? '');
  const flow = flows.find((f) => f.name === flowName) ?? flows[0];
  const [resourceName, setResourceName] = useState('');
  const resource = flow?.resources.find((r) => r.name === resourceName) ?? flow?.resources[0];
  const [permission, setPermission] = useState('');
  const perm = resource?.permissions.includes(permission) ? permission : (resource?.permissions[0] ?? '');
  const [duration, setDuration] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);

  if (!flow || !resource) return null;
  const durationMs = duration.trim() ? parseDuration(duration) : flow.defaultDurationMs;
  const durationProblem =
    durationMs === undefined
      ? 'Write a duration such as 30m, 1h or 1h30m.'
      : durationMs > flow.maxDurationMs
        ? `At most ${formatDuration(flow.maxDurationMs)} for this flow.`
        : undefined;
  const reasonProblem = flow.requireJustification && !reason.trim() ? 'This flow needs a reason.' : undefined;
  const noAccount = resource.account === undefined;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (durationProblem || reasonProblem || noAccount) return;
    setBusy(true);
    setError(undefined);
    try {
      const { request } = await post<{ request: RequestRow }>('/api/v1/requests', {
        flow: flow.name,
        resource: resource.name,
        permission: perm,
        ...(duration.trim() ? { duration: duration.trim() } : {}),
        reason: reason.trim(),
        idempotencyKey,
      });
      void navigate(`/requests/${encodeURIComponent(request.id)}`);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} noValidate>
      <div className="field">
        <label htmlFor="flow">Access flow</label>
        <select
          id="flow"
          value={flow.name}
          onChange={(e) => {
            setFlowName(e.target.value);
            setResourceName('');
            setPermission('');
          }}
        >
          {flows.map((f) => (
            <option key={f.name} value={f.name}>
              {f.name}
            </option>
          ))}
        </select>
        {flow.description && <p className="hint">{flow.description}</p>}
      </div>
      <div className="field">
        <label htmlFor="resource">Resource</label>
        <select
          id="resource"
          value={resource.name}
          onChange={(e) => {
            setResourceName(e.target.value);
            setPermission('');
          }}
        >
          {flow.resources.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name} ({r.integrationType})
            </option>
          ))}
        </select>
        {noAccount && (
          <p className="field-error" role="alert">
            You have no account in {resource.integration}; an admin must add one for you in grantflow.yaml.
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="permission">Permission</label>
        <select id="permission" value={perm} onChange={(e) => setPermission(e.target.value)}>
          {resource.permissions.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="duration">For how long</label>
        <input
          id="duration"
          value={duration}
          placeholder={formatDuration(flow.defaultDurationMs)}
          onChange={(e) => setDuration(e.target.value)}
          aria-describedby="duration-hint"
          aria-invalid={durationProblem ? true : undefined}
          inputMode="text"
          autoComplete="off"
        />
        <p id="duration-hint" className="hint">
          Default {formatDuration(flow.defaultDurationMs)}, at most {formatDuration(flow.maxDurationMs)} (
          {formatDuration(flow.maxTotalDurationMs)} with extensions).
        </p>
        {durationProblem && duration.trim() && (
          <p className="field-error" role="alert">
            {durationProblem}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="reason">Why{flow.requireJustification ? '' : ' (optional)'}</label>
        <textarea
          id="reason"
          value={reason}
          rows={3}
          onChange={(e) => setReason(e.target.value)}
          required={flow.requireJustification}
          aria-describedby="reason-hint"
        />
        <p id="reason-hint" className="hint">
          {flow.requireJustification
            ? 'Required: approvers and the audit log see it (a ticket or incident link helps).'
            : 'Approvers and the audit log see it.'}
        </p>
      </div>
      <div className="approvers" aria-live="polite">
        {flow.autoApprove ? (
          <p>Approved automatically: access is granted within seconds.</p>
        ) : (
          <p>
            Needs {flow.requiredApprovals} approval{flow.requiredApprovals === 1 ? '' : 's'} from:{' '}
            {flow.approvers.filter((a) => a !== '').join(', ') || 'nobody (ask an admin)'}
            {flow.selfIsApprover && ' — you are an approver too, but cannot approve your own request.'}
            {flow.stepUp && ' Approvers decide in this portal after a fresh login.'}
          </p>
        )}
      </div>
      {error && <ErrorBox error={error} />}
      <button
        type="submit"
        className="primary"
        disabled={busy || Boolean(durationProblem) || Boolean(reasonProblem) || noAccount}
      >
        {busy ? 'Requesting…' : 'Request access'}
      </button>
    </form>
  );
}
