// The KV "seen" hint: lets a redelivery be answered at the edge without waking a Durable Object.
// KV is eventually consistent and has no compare-and-set, so this is a hint, never a lock: a miss
// proves nothing (the ledger decides), and a marker is written only after the ledger has durably
// recorded the event, so a hit always means "already stored".

/** How long a marker lives. PortOne documents no retry window (spec §8); a week outlasts any
 *  plausible redelivery, and a redelivery after it still reaches the ledger, which answers
 *  duplicate from its own history. */
export const SEEN_TTL_SECONDS = 7 * 24 * 60 * 60;

const seenKey = (eventId: string): string => `seen:${eventId}`;

/** SEEN_HINT=off turns the hint off: no KV read or write per event; every redelivery asks the
 *  ledger. The benchmark shows the hint costs more than it saves in money (README, Performance);
 *  it is on by default because it keeps redelivery storms off a busy object. */
export function seenHintEnabled(value: string | undefined): boolean {
  return (value ?? "").trim().toLowerCase() !== "off";
}

export async function wasSeen(kv: KVNamespace, eventId: string): Promise<boolean> {
  return (await kv.get(seenKey(eventId))) !== null;
}

/** Marks an event recorded. The value names where it lives, for an operator reading KV. */
export async function markSeen(kv: KVNamespace, eventId: string, objectName: string): Promise<void> {
  await kv.put(seenKey(eventId), objectName, { expirationTtl: SEEN_TTL_SECONDS });
}
