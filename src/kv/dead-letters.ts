// The index of dead letters across objects, in KV: one key per dead-lettered event, written before
// the Durable Object marks the event dead and deleted when it is redelivered. The Durable Object
// stays the authority; KV list is eventually consistent (a new or removed entry may take about a
// minute to show everywhere), so the operator API says to confirm an entry on its object.
// Cost: nothing per delivered event; one KV write per dead letter and one delete per redelivery.

const PREFIX = "dead:";

export interface DeadLetter {
  readonly object: string;
  readonly event_id: string;
  readonly status: string;
  readonly dead_at: string;
  readonly last_error: string;
}

const keyOf = (object: string, eventId: string): string => `${PREFIX}${object}:${eventId}`;

export async function indexDeadLetter(kv: KVNamespace, entry: DeadLetter): Promise<void> {
  await kv.put(keyOf(entry.object, entry.event_id), "", { metadata: entry });
}

export async function unindexDeadLetter(kv: KVNamespace, object: string, eventId: string): Promise<void> {
  await kv.delete(keyOf(object, eventId));
}

export async function listDeadLetters(
  kv: KVNamespace,
  cursor: string | undefined,
): Promise<{ dead_letters: DeadLetter[]; cursor: string | null }> {
  const page = await kv.list<DeadLetter>({ prefix: PREFIX, limit: 100, ...(cursor ? { cursor } : {}) });
  return {
    dead_letters: page.keys.flatMap((k) => (k.metadata ? [k.metadata] : [])),
    cursor: page.list_complete ? null : page.cursor,
  };
}
