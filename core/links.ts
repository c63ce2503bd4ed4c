import type { GrantflowConfig } from '../config/types';

/** Where a person reviews a request in the portal (links in chat, step-up). */
export function portalLink(config: GrantflowConfig, requestId: string): string {
  const base =
    config.publicUrl ??
    process.env.GRANTFLOW_PUBLIC_URL ??
    `http://localhost:${process.env.GRANTFLOW_PORT ?? 3000}`;
  return `${base.replace(/\/$/, '')}/requests/${encodeURIComponent(requestId)}`;
}
