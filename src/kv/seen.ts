// The KV "seen" hint: lets a redelivery be answered at the edge without waking a Durable Object.
// KV is eventually consistent and has no compare-and-set, so this is a hint, never a lock: a miss
// proves nothing (the ledger decides), and a marker is written only after the ledger has durably
// recorded the event, so a hit always means "already stored". It is written at the event's first
// redelivery (the ledger answered duplicate), not with the event: most events are never redelivered.
// The marker holds the hash of the body that was recorded: a body that differs (unsigned fields
// added to a captured body) is not answered here but by the ledger, which logs the conflict.

import { DAY_MS, SECOND_MS } from "../lib/time";

/** How long a marker lives. PortOne documents no retry window (spec §8); a week outlasts any
 *  plausible redelivery, and a redelivery after it still reaches the ledger, which answers
 *  duplicate from its own history. */
export const SEEN_TTL_SECONDS = (7 * DAY_MS) / SECOND_MS;

const seenKey = (eventId: string): string => `seen:${eventId}`;

// SEEN_HINT=off (config.seenHint) turns the hint off: no KV read or write per event; every
// redelivery asks the ledger. The benchmark shows the hint costs more than it saves in money
// (docs/performance.md); it is on by default because it keeps redelivery storms off a busy object.

/** Whether this event was recorded with this very body. A marker written before markers held a
 *  hash (the object's name alone) counts as a hit, as it did then. */
export async function wasSeen(kv: KVNamespace, eventId: string, contentHash: string): Promise<boolean> {
  const value = await kv.get(seenKey(eventId));
  if (value === null) return false;
  const space = value.indexOf(" ");
  return space < 0 || value.slice(0, space) === contentHash;
}

/** Marks an event recorded: "<body sha256> <object name>" (the name for an operator reading KV). */
export async function markSeen(
  kv: KVNamespace,
  eventId: string,
  contentHash: string,
  objectName: string,
): Promise<void> {
  await kv.put(seenKey(eventId), `${contentHash} ${objectName}`, { expirationTtl: SEEN_TTL_SECONDS });
}
