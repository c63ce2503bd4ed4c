/**
 * Serves the portal: the single-page app that `vite build` writes to dist/portal. Its hashed assets are cached
 * for a year; every other browser navigation outside the API, login and chat paths gets index.html, so that a
 * link such as /requests/<id> opens the right page. Without a build, `/` says how to make one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the server itself: a miss there is a JSON 404, never the portal. */
const SERVER_PATHS = /^\/(api|auth|slack|healthz|readyz|metrics)(\/|\?|$)/;

/** Where the built portal is: GRANTFLOW_PORTAL_DIR, else dist/portal of this checkout. */
export function portalDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRANTFLOW_PORTAL_DIR) return path.resolve(env.GRANTFLOW_PORTAL_DIR);
  // This file runs as server/portal.ts (tsx) or dist/server/portal.js: find the checkout's root either way.
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'portal');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Grantflow</title></head>
<body><main><h1>Grantflow</h1><p>The portal has not been built. Run <code>npm run build</code> (or
<code>npm start</code>, which builds it) and reload. The HTTP API is at <a href="/api/v1/openapi.json">/api/v1</a>.</p>
</main></body></html>`;

export function registerPortal(server: FastifyInstance, root = portalDir()): { built: boolean } {
  const built = existsSync(path.join(root, 'index.html'));
  if (built) {
    void server.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: false,
      index: false,
      setHeaders(res, file) {
        const hashed = file.includes(`${path.sep}assets${path.sep}`);
        res.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  const sendApp = (reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    );
    if (!built) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.sendFile('index.html');
  };
  server.get('/', async (_req, reply) => sendApp(reply));
  server.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '/';
    const navigation = req.method === 'GET' && String(req.headers.accept ?? '').includes('text/html');
    if (navigation && !SERVER_PATHS.test(path) && !/\.[a-z0-9]+$/i.test(path)) return sendApp(reply);
    return reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${path}` } });
  });
  return { built };
}
