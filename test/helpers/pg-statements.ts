/**
 * Records every SQL statement clients send to PostgreSQL through a proxy, by reading the frontend protocol:
 * simple queries ('Q') and the statements of the extended protocol ('P', Parse). What the server executed is
 * exactly this list, so a test can prove that nothing else ever ran.
 */
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

export interface StatementRecorder {
  proxy: TcpProxy;
  statements: string[];
}

export async function recordPgStatements(target: { host: string; port: number }): Promise<StatementRecorder> {
  const statements: string[] = [];
  const buffers = new Map<number, { data: Buffer; started: boolean }>();
  const proxy = await startTcpProxy(target, (connection, chunk) => {
    const state = buffers.get(connection) ?? { data: Buffer.alloc(0), started: false };
    state.data = Buffer.concat([state.data, chunk]);
    for (;;) {
      if (!state.started) {
        // StartupMessage / SSLRequest: int32 length, no type byte.
        if (state.data.length < 4) break;
        const len = state.data.readInt32BE(0);
        if (state.data.length < len) break;
        const code = state.data.readInt32BE(4);
        state.data = state.data.subarray(len);
        if (code !== 80877103) state.started = true; // not an SSLRequest: the real startup
        continue;
      }
      if (state.data.length < 5) break;
      const type = String.fromCharCode(state.data[0]!);
      const len = state.data.readInt32BE(1);
      if (state.data.length < 1 + len) break;
      const body = state.data.subarray(5, 1 + len);
      if (type === 'Q') statements.push(body.subarray(0, body.indexOf(0)).toString('utf8'));
      if (type === 'P') {
        const nameEnd = body.indexOf(0);
        const rest = body.subarray(nameEnd + 1);
        statements.push(rest.subarray(0, rest.indexOf(0)).toString('utf8'));
      }
      state.data = state.data.subarray(1 + len);
    }
    buffers.set(connection, state);
  });
  return { proxy, statements };
}
