/**
 * The OpenAPI 3.1 document of /api/v1, served at GET /api/v1/openapi.json. Written by hand next to the routes;
 * a test checks that every route the server registers under /api/v1 is described here.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const error = {
  description: 'Refused or invalid: the body names the code, the message and the field',
  ...json(ref('Error')),
};
const idParam = [
  { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Request id (req_…)' },
];
const idempotency = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'Repeating a decision with the same key applies it once and returns the first answer',
};

function action(summary: string, body?: object) {
  return {
    post: {
      summary,
      parameters: [...idParam, idempotency],
      ...(body ? { requestBody: { required: true, ...json(body) } } : {}),
      responses: {
        200: { description: 'The request after the action', ...json(ref('RequestView')) },
        400: error,
        404: error,
        409: error,
      },
    },
  };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Grantflow API',
    version: '1',
    description:
      'Just-in-time access requests. Authenticate with `Authorization: Bearer <token>` (`grantflow tokens create`). ' +
      'A person sees their own requests and those they may approve; admins see all.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }, { session: [] }],
  paths: {
    '/api/v1/me': {
      get: {
        summary: 'Who I am',
        responses: { 200: { description: 'My identity', ...json(ref('Identity')) }, 401: error },
      },
    },
    '/api/v1/flows': {
      get: {
        summary: 'What I may request, and who would approve',
        responses: { 200: { description: 'Flows', ...json({ type: 'object' }) } },
      },
    },
    '/api/v1/requests': {
      get: {
        summary: 'List requests',
        parameters: [
          {
            name: 'scope',
            in: 'query',
            schema: { enum: ['mine', 'approvals', 'active', 'all'], default: 'mine' },
            description: '`active` and `all` are for admins',
          },
          { name: 'status', in: 'query', schema: { type: 'string' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: {
          200: {
            description: 'Requests, newest first',
            ...json({ type: 'array', items: ref('RequestRow') }),
          },
          403: error,
        },
      },
      post: {
        summary: 'Request access',
        requestBody: { required: true, ...json(ref('CreateRequest')) },
        responses: {
          201: {
            description: 'Created',
            ...json({
              type: 'object',
              properties: { request: ref('RequestRow'), existing: { type: 'boolean' } },
            }),
          },
          200: { description: 'An identical pending request, or the same idempotency key, already existed' },
          400: error,
        },
      },
    },
    '/api/v1/requests/{id}': {
      get: {
        summary: 'One request with its timeline',
        parameters: idParam,
        responses: { 200: { description: 'The request', ...json(ref('RequestView')) }, 404: error },
      },
    },
    '/api/v1/requests/{id}/credentials': {
      get: {
        summary: "The grant's own sign-in (temporary users), for the requester alone; every read is audited",
        parameters: idParam,
        responses: {
          200: {
            description: 'Sign-in details (not cached)',
            ...json({
              type: 'object',
              properties: {
                username: { type: 'string' },
                password: { type: 'string' },
                connectHint: { type: 'string' },
              },
            }),
          },
          403: error,
          404: error,
        },
      },
    },
    '/api/v1/requests/{id}/approve': action('Approve', {
      type: 'object',
      properties: { comment: { type: 'string' } },
    }),
    '/api/v1/requests/{id}/deny': action('Deny', {
      type: 'object',
      required: ['reason'],
      properties: { reason: { type: 'string' } },
    }),
    '/api/v1/requests/{id}/extend': action('Extend an active grant', {
      type: 'object',
      required: ['by'],
      properties: { by: { type: 'string', examples: ['30m'] } },
    }),
    '/api/v1/requests/{id}/revoke': action('End an active grant now', {
      type: 'object',
      properties: { reason: { type: 'string' } },
    }),
    '/api/v1/requests/{id}/cancel': action('Withdraw a pending request'),
    '/api/v1/audit': {
      get: {
        summary: 'Export the audit log (admin)',
        parameters: [
          { name: 'format', in: 'query', schema: { enum: ['jsonl', 'csv'], default: 'jsonl' } },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { 200: { description: 'JSON lines or CSV' }, 403: error },
      },
    },
    '/api/v1/audit/events': {
      get: {
        summary: 'Search the audit log (admin), newest first',
        parameters: [
          { name: 'requestId', in: 'query', schema: { type: 'string' } },
          { name: 'actor', in: 'query', schema: { type: 'string' }, description: 'Email, or `grantflow`' },
          {
            name: 'type',
            in: 'query',
            schema: { type: 'string' },
            examples: { granted: { value: 'granted' } },
          },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
          },
        ],
        responses: {
          200: { description: 'Events', ...json({ type: 'array', items: ref('AuditEvent') }) },
          400: error,
          403: error,
        },
      },
    },
    '/api/v1/admin/flows': {
      get: {
        summary: 'Every loaded flow: who may request and approve, what, and where it notifies (admin)',
        responses: { 200: { description: 'Flows', ...json({ type: 'array' }) }, 403: error },
      },
    },
    '/api/v1/audit/verify': {
      get: {
        summary: 'Check the audit hash chain (admin)',
        responses: { 200: { description: 'The result', ...json({ type: 'object' }) }, 403: error },
      },
    },
    '/api/v1/integrations/health': {
      get: {
        summary: 'Health of each integration and chat platform',
        responses: { 200: { description: 'Health', ...json({ type: 'object' }) } },
      },
    },
    '/api/v1/openapi.json': {
      get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `grantflow tokens create`' },
      session: {
        type: 'apiKey',
        in: 'cookie',
        name: 'gf_session',
        description: 'The portal login (/auth/login); state-changing calls also send x-csrf-token',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              field: { type: 'string' },
              loginUrl: { type: 'string', description: 'step_up_required: log in again here' },
            },
          },
        },
      },
      Identity: {
        type: 'object',
        properties: {
          email: { type: 'string' },
          groups: { type: 'array', items: { type: 'string' } },
          admin: { type: 'boolean' },
        },
      },
      CreateRequest: {
        type: 'object',
        required: ['flow', 'resource', 'permission'],
        additionalProperties: false,
        properties: {
          flow: { type: 'string' },
          resource: { type: 'string' },
          permission: { type: 'string' },
          duration: { type: 'string', examples: ['1h'], description: "Defaults to the flow's default" },
          reason: { type: 'string' },
          idempotencyKey: { type: 'string' },
        },
      },
      RequestRow: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          status: { type: 'string' },
          requester: { type: 'string' },
          flow: { type: 'string' },
          resource: { type: 'string' },
          permission: { type: 'string' },
          expiresAt: { type: 'string' },
        },
      },
      RequestView: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          workflowId: { type: 'string' },
          status: { type: 'string' },
          approvals: { type: 'array' },
          stepUp: { type: 'boolean', description: 'Decisions need a recent portal login' },
          actions: {
            type: 'object',
            description:
              'What the caller may do now (approve, cancel, extend, revoke); the server still checks',
          },
          temporalUrl: { type: 'string', description: "The workflow's page in the Temporal Web UI" },
          timeline: { type: 'array', items: ref('AuditEvent') },
        },
      },
      AuditEvent: {
        type: 'object',
        properties: {
          seq: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          type: { type: 'string' },
          actor: { type: 'string' },
          channel: { type: 'string' },
          requestId: { type: 'string' },
          details: { type: 'object' },
        },
      },
    },
  },
} as const;
