/**
 * The request's signals, updates and query. The approve/deny signals and the decide update apply the same rules
 * (RequestState); a refused signal is recorded, since a refused update never reaches the history.
 */
import { setHandler } from '@temporalio/workflow';
import {
  approveSignal,
  cancelUpdate,
  decideUpdate,
  denySignal,
  extendUpdate,
  revokeUpdate,
  statusQuery,
  type DecisionInput,
} from './definitions';
import type { RequestEffects } from './effects';
import type { RequestState } from './request-state';

export function registerHandlers(state: RequestState, fx: RequestEffects): void {
  const decide = (decision: 'approve' | 'deny') => async (d: DecisionInput) => {
    const channel = d.channel ?? 'temporal';
    const refusal = state.refuseDecision(d.approver, channel);
    if (refusal) {
      await fx.record('decision_rejected', d.approver, channel, { decision, reason: refusal, via: 'signal' });
      return;
    }
    const at = new Date().toISOString();
    state.applyDecision({ approver: d.approver.toLowerCase(), decision, comment: d.comment, at, channel });
    await fx.record(decision === 'approve' ? 'approval' : 'denial', d.approver, channel, {
      comment: d.comment,
    });
  };

  setHandler(statusQuery, () => state.view());
  setHandler(approveSignal, decide('approve'));
  setHandler(denySignal, decide('deny'));
  setHandler(
    decideUpdate,
    async (d) => {
      await decide(d.decision)({ ...d, channel: d.channel ?? 'api' });
      return state.view();
    },
    { validator: (d) => throwIf(state.refuseDecision(d.approver, d.channel ?? 'api')) },
  );
  setHandler(
    extendUpdate,
    async ({ actor, byMs, channel }) => {
      state.applyExtend(actor, byMs, new Date().toISOString());
      fx.setStatus(state.status);
      await fx.record('extended', actor, channel ?? 'api', { byMs, expiresAt: state.view().expiresAt });
      await fx.publish('extended');
      return state.view();
    },
    { validator: ({ actor, byMs }) => throwIf(state.refuseExtend(actor, byMs)) },
  );
  setHandler(
    revokeUpdate,
    async ({ actor, reason, channel }) => {
      const at = new Date().toISOString();
      state.revokeRequest = { actor, reason: reason ?? 'revoked early', channel: channel ?? 'api', at };
      await fx.record('revoke_requested', actor, channel ?? 'api', { reason: state.revokeRequest.reason });
      return state.view();
    },
    { validator: ({ actor }) => throwIf(state.refuseRevoke(actor)) },
  );
  setHandler(
    cancelUpdate,
    async ({ actor, channel }) => {
      state.cancelledBy = actor;
      state.status = 'CANCELLED';
      await fx.record('cancel_requested', actor, channel ?? 'api');
      return state.view();
    },
    { validator: ({ actor }) => throwIf(state.refuseCancel(actor)) },
  );
}

function throwIf(refusal: string | undefined): void {
  if (refusal) throw new Error(refusal);
}
