// The operator's filters and page arguments as the API and the console take them from a request:
// parsed the same way for both, and refused with a 400 that says what is wrong.

import { httpError } from "../lib/http-errors";
import { parseFilter, type EventFilter } from "../readmodel/filters";
import { decodeCursor, MAX_PAGE } from "../readmodel/queries";

export function filterOf(input: Readonly<Record<string, unknown>>): EventFilter {
  const parsed = parseFilter(input);
  if (!parsed.ok) throw httpError(400, "invalid_filter", parsed.error);
  return parsed.value;
}

export function pageArgs(limitText: string | undefined, cursorText: string | undefined) {
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw httpError(400, "invalid_filter", `limit must be a whole number from 1 to ${MAX_PAGE}`);
  if (cursorText === undefined || cursorText === "") return { limit, after: null };
  const cursor = decodeCursor(cursorText);
  if (!cursor.ok) throw httpError(400, "invalid_cursor", cursor.error);
  return { limit, after: cursor.value };
}

/** `limit` (1 to MAX_PAGE, default 50) and `cursor` (the id next_cursor gave) of the audit log's pages. */
export function auditPage(limitText: string | undefined, cursorText: string | undefined) {
  const limit = limitText === undefined ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw httpError(400, "invalid_filter", `limit must be a whole number from 1 to ${MAX_PAGE}`);
  if (cursorText === undefined || cursorText === "") return { limit, after: null };
  if (!/^\d{1,15}$/.test(cursorText))
    throw httpError(400, "invalid_cursor", "cursor must be a next_cursor of this list");
  return { limit, after: Number(cursorText) };
}
