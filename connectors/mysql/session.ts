/**
 * Connections of an account: counting them (for check) and ending them (for revoke). DROP USER and REVOKE leave
 * open connections working, so revoke kills every connection of the user name and waits until none is left.
 */
import { RevokeIncompleteError } from './errors';
import * as sql from './sql';
import type { Db } from './sql';

/** How long revoke waits for killed connections to be gone before it reports failure (retryable). */
const KILL_WAIT_MS = 3_000;
/** ER_NO_SUCH_THREAD: the connection ended by itself between listing and killing. */
const NO_SUCH_THREAD = 1094;

/** A COUNT(*) read. */
export async function count(db: Db, query: string, params: string[]): Promise<number> {
  const [row] = await db.rows<{ n: number | string }>(query, params);
  return Number(row?.n ?? 0);
}

async function connectionIds(db: Db, user: string): Promise<number[]> {
  const rows = await db.rows<{ id: number | string }>(sql.CONNECTIONS_OF, [user]);
  return rows.map((row) => Number(row.id));
}

/** Open connections of the user name (from any host), other than Grantflow's own. */
export async function liveConnections(db: Db, user: string): Promise<number> {
  return (await connectionIds(db, user)).length;
}

/** Kills every connection of the user name and waits until none is listed; returns how many it killed. */
export async function endConnections(db: Db, integration: string, user: string): Promise<number> {
  const killed = new Set<number>();
  for (const deadline = Date.now() + KILL_WAIT_MS; ;) {
    const ids = await connectionIds(db, user);
    if (ids.length === 0) return killed.size;
    if (Date.now() > deadline) {
      throw new RevokeIncompleteError(
        integration,
        `${ids.length} connection(s) of the account are still open`,
      );
    }
    for (const id of ids) {
      try {
        await db.run(sql.killConnection(id));
        killed.add(id);
      } catch (err) {
        if ((err as { errno?: number }).errno !== NO_SUCH_THREAD) throw err;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
