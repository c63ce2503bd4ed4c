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

/**
 * The operator service's numbers for each type (temporal.api.enums.v1.IndexedValueType), spelled out so that this
 * file stays free of imports.
 */
export const INDEXED_VALUE_TYPE_NUMBERS: Readonly<Record<SearchAttributeTypeName, number>> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** The type name of an operator-service type number (`type 9` for one this file does not know). */
export function searchAttributeTypeName(type: number): string {
  const found = Object.entries(INDEXED_VALUE_TYPE_NUMBERS).find(([, n]) => n === type);
  return found ? found[0] : `type ${type}`;
}

/** How a namespace's custom search attributes compare with the ones wanted. */
export interface SearchAttributeComparison {
  /** Wanted names the namespace lacks, with the type each needs. */
  missing: { name: string; type: SearchAttributeTypeName }[];
  /** Names the namespace has with another type (Temporal cannot change a type in place). */
  wrongType: { name: string; wanted: SearchAttributeTypeName; actual: string }[];
}

/**
 * Compares `existing` (name → operator-service type number, as `listSearchAttributes` answers in
 * `customAttributes`) with `wanted` (default: Grantflow's).
 */
export function compareSearchAttributes(
  existing: Record<string, number>,
  wanted: Record<string, SearchAttributeTypeName> = GRANTFLOW_SEARCH_ATTRIBUTES,
): SearchAttributeComparison {
  const result: SearchAttributeComparison = { missing: [], wrongType: [] };
  for (const [name, type] of Object.entries(wanted)) {
    const have = existing[name];
    if (have === undefined) result.missing.push({ name, type });
    else if (Number(have) !== INDEXED_VALUE_TYPE_NUMBERS[type])
      result.wrongType.push({ name, wanted: type, actual: searchAttributeTypeName(Number(have)) });
  }
  return result;
}
