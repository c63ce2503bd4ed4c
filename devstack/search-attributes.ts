/**
 * The custom search attributes Grantflow registers on its Temporal namespace.
 * No imports, so workflow code (which runs in Temporal's sandbox) can mirror the names safely.
 */

/** Type names as the Temporal CLI and operator service spell them. */
export type SearchAttributeTypeName =
  'Keyword' | 'Datetime' | 'Int' | 'Bool' | 'Text' | 'Double' | 'KeywordList';

/**
 * Grantflow's search attributes and their types. SQLite visibility allows at most 10 Keyword and 3 Datetime
 * custom attributes per namespace, so keep additions within that.
 */
export const GRANTFLOW_SEARCH_ATTRIBUTES = {
  GrantflowStatus: 'Keyword',
  GrantflowRequester: 'Keyword',
  GrantflowFlow: 'Keyword',
  GrantflowResource: 'Keyword',
  GrantflowPermission: 'Keyword',
  GrantflowExpiresAt: 'Datetime',
} as const satisfies Record<string, SearchAttributeTypeName>;
