/**
 * CSRF protection by synchronizer token: a state-changing call authenticated by the session cookie must send
 * the session's token in `x-csrf-token`. Bearer-token calls cannot be forged cross-site (browsers do not attach
 * Authorization headers on their own), and the chat endpoints authenticate with their own signatures.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../store/types';
import { CsrfError } from './errors';
import { sessionOf } from './sessions';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Paths that never use the session: chat webhooks, and dev login (it starts a session, it does not use one). */
const EXEMPT = [/^\/slack\//, /^\/api\/messages(\?|$)/, /^\/auth\/dev(\?|$)/];

/** Whether the request must carry the CSRF token of its session (before looking the session up). */
function mayNeedCsrf(req: FastifyRequest): boolean {
  if (!STATE_CHANGING.has(req.method)) return false;
  if (req.headers.authorization) return false;
  return !EXEMPT.some((re) => re.test(req.url));
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Installs the check on every route of `server` as a preHandler. */
export function installCsrf(server: FastifyInstance, store: Store): void {
  server.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!mayNeedCsrf(req)) return;
    const session = await sessionOf(store, req);
    if (!session) return; // not session-authenticated: the route itself refuses or allows
    const sent = req.headers['x-csrf-token'];
    if (typeof sent === 'string' && sameToken(sent, session.csrfToken)) return;
    const err = new CsrfError();
    return reply.code(err.httpStatus).send({ error: { code: err.code, message: err.message } });
  });
}
