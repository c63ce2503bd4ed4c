import type { GrantflowConfig } from '../config/types';

/** Where a person reviews a request in the portal (links in chat, step-up). */
export function portalLink(config: GrantflowConfig, requestId: string): string {
  return `${publicBaseUrl(config)}/requests/${encodeURIComponent(requestId)}`;
}

/** The portal's public address without a trailing slash: `publicUrl`, GRANTFLOW_PUBLIC_URL, else localhost. */
export function publicBaseUrl(config: GrantflowConfig, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    config.publicUrl ?? env.GRANTFLOW_PUBLIC_URL ?? `http://localhost:${env.GRANTFLOW_PORT ?? 3000}`;
  return base.replace(/\/$/, '');
}
