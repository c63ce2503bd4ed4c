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
const nameParam = [
  {
    name: 'name',
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: 'Integration name in grantflow.yaml',
  },
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
    '/api/v1/admin/integrations': {
      get: {
        summary:
          "The Integrations page (admin): Slack, Teams, each connector's last health check, and routing warnings",
        responses: {
          200: {
            description: "Every integration's state; never a token",
            ...json(ref('IntegrationsOverview')),
          },
          403: error,
        },
      },
    },
    '/api/v1/admin/integrations/slack/disconnect': {
      post: {
        summary:
          'Disconnect the Slack workspace connected from the portal (admin): auth.revoke, then forget the token; audited',
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: {
              force: {
                type: 'boolean',
                default: false,
                description:
                  'Forget the token even when Slack cannot revoke it (revoke it in Slack yourself)',
              },
            },
          }),
        },
        responses: {
          200: {
            description: 'Slack after the disconnect: SLACK_BOT_TOKEN if set, else off',
            ...json({ type: 'object', properties: { slack: ref('SlackStatus') } }),
          },
          400: error,
          403: error,
          409: {
            description: 'slack_not_connected: no workspace is connected from the portal',
            ...json(ref('Error')),
          },
          502: {
            description:
              'slack_revoke_failed: Slack did not revoke the token, which is kept (retry, or force)',
            ...json(ref('Error')),
          },
        },
      },
    },
    '/api/v1/admin/integrations/connectors/{name}/check': {
      post: {
        summary: "Run one connector's health checks now and keep the result (admin); audited",
        parameters: nameParam,
        responses: {
          200: { description: "The connector's row after the check", ...json(ref('ConnectorStatus')) },
          403: error,
          404: error,
        },
      },
    },
    '/api/v1/admin/integrations/teams/package': {
      get: {
        summary: "The Teams app package with this server's MicrosoftAppId (admin)",
        responses: {
          200: {
            description: 'grantflow-teams-app.zip, to upload in Teams or the Teams admin center',
            content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
          },
          403: error,
          503: { description: 'teams_app_id: MicrosoftAppId is not set or malformed', ...json(ref('Error')) },
        },
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
      IntegrationsOverview: {
        type: 'object',
        properties: {
          slack: ref('SlackStatus'),
          teams: {
            type: 'object',
            properties: {
              configured: { type: 'boolean', description: 'MicrosoftAppId is set' },
              appId: { type: 'string' },
              lastActivityAt: { type: 'string', format: 'date-time' },
              reachablePeople: { type: 'integer' },
              channels: { type: 'integer' },
              packageAvailable: { type: 'boolean' },
              message: { type: 'string' },
            },
          },
          connectors: { type: 'array', items: ref('ConnectorStatus') },
          routing: {
            type: 'array',
            description: 'Flows whose notifications would go unseen',
            items: {
              type: 'object',
              properties: {
                platform: { enum: ['slack', 'teams'] },
                channel: { type: 'string' },
                flows: { type: 'array', items: { type: 'string' } },
                problem: {
                  enum: ['platform_not_connected', 'not_in_channel', 'channel_not_found', 'channel_unknown'],
                },
                message: { type: 'string' },
              },
            },
          },
          checkIntervalSeconds: {
            type: 'integer',
            description:
              'Background connector checks (GRANTFLOW_INTEGRATION_CHECK_INTERVAL); 0: on demand only',
          },
        },
      },
      SlackStatus: {
        type: 'object',
        properties: {
          state: { enum: ['active', 'off', 'error'] },
          source: {
            enum: ['oauth', 'environment', 'none'],
            description: 'The token in use: the workspace connected from the portal, else SLACK_BOT_TOKEN',
          },
          mode: { enum: ['http', 'socket'] },
          oauthAvailable: { type: 'boolean', description: 'Connect Slack is configured' },
          oauthMissing: { type: 'array', items: { type: 'string' }, description: 'Variables Connect needs' },
          environmentToken: { type: 'boolean', description: 'SLACK_BOT_TOKEN is set' },
          installation: {
            type: 'object',
            description: 'The workspace connected from the portal (never its token)',
            properties: {
              teamId: { type: 'string' },
              teamName: { type: 'string' },
              enterpriseId: { type: 'string' },
              enterpriseName: { type: 'string' },
              botUserId: { type: 'string' },
              botId: { type: 'string' },
              appId: { type: 'string' },
              scopes: { type: 'array', items: { type: 'string' } },
              installedBy: { type: 'string' },
              installedAt: { type: 'string', format: 'date-time' },
              keyId: { type: 'string', description: 'The encryption key the token is sealed with' },
            },
          },
          message: { type: 'string' },
        },
      },
      ConnectorStatus: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          type: { type: 'string' },
          ok: { type: 'boolean', description: "The last check's result; absent when never checked" },
          message: { type: 'string' },
          checks: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' } },
            },
          },
          checkedAt: { type: 'string', format: 'date-time' },
          activeGrants: { type: 'integer' },
          overdueRevocations: { type: 'integer' },
          overdueRequestIds: { type: 'array', items: { type: 'string' }, description: 'Up to 10' },
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
