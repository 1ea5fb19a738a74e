// Migration 5: events recorded before identities covered only signed content. Each old PortOne
// event of a signed kind gets the identity a new webhook with the same signed fields would get,
// and its stored payload is split into data and unverified, so a redelivery after the upgrade is
// a duplicate and a pending old event is forwarded in the new envelope. Its event_id is kept: it
// is the webhook-id the origin may already have.
// When two old events share signed fields (a replay with additions that was accepted before, or
// two subscription Actives), the first keeps the identity and the later ones keep their own id:
// history is never rewritten into a collision.
// Everything else (generic sources, refunds) was already named by what is proven: identity = id.

import { SIGNED_KINDS_BY_NAME } from "../providers/portone/kinds";
import { signedEventId, splitSigned } from "../providers/portone/signed-content";
import { canonicalMessage } from "../providers/portone/verify";

type OldRow = { seq: number; event_id: string; provider: string; kind: string; payload: string };
type Rewrite = { seq: number; identity: string; data: string | null; unverified: string | null };

export async function reidentify(sql: SqlStorage): Promise<(sql: SqlStorage) => void> {
  const rows = sql
    .exec<OldRow>("SELECT seq, event_id, provider, kind, payload FROM events WHERE identity IS NULL ORDER BY seq")
    .toArray();
  const taken = new Set<string>();
  const rewrites: Rewrite[] = [];
  for (const row of rows) {
    const derived = await derive(row);
    const identity = derived && !taken.has(derived.identity) ? derived.identity : row.event_id;
    taken.add(identity);
    rewrites.push({ seq: row.seq, identity, data: derived?.data ?? null, unverified: derived?.unverified ?? null });
  }
  return (db) => {
    for (const r of rewrites) {
      if (r.data === null) db.exec("UPDATE events SET identity = ? WHERE seq = ?", r.identity, r.seq);
      else
        db.exec(
          "UPDATE events SET identity = ?, payload = ?, unverified = ? WHERE seq = ?",
          r.identity,
          r.data,
          r.unverified,
          r.seq,
        );
    }
  };
}

async function derive(row: OldRow): Promise<{ identity: string; data: string; unverified: string | null } | null> {
  const kind = row.provider === "portone" ? SIGNED_KINDS_BY_NAME.get(row.kind) : undefined;
  if (!kind) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return null;
  const body = payload as Record<string, unknown>;
  const canonical = canonicalMessage(body, kind);
  if (!canonical.ok) return null;
  const split = splitSigned(body, kind);
  return {
    identity: await signedEventId(kind, canonical.value),
    data: JSON.stringify(split.data),
    unverified: split.unverified === null ? null : JSON.stringify(split.unverified),
  };
}
