// The read model's writer: many ledgers' snapshots go to D1 in one batch (a group commit); each
// ledger learns whether its own snapshot committed, a snapshot D1 refuses fails only its ledger, and
// one larger than a batch goes alone. Run against the real writer Durable Object and the real D1.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../src/readmodel/rows";
import { readModelWriter, writerOf } from "../src/readmodel/writer";
import { testEnv } from "./env";
import { uniqueRef } from "./helpers";
import { eventRowOf, objectRowOf } from "./snapshots";

function snapshotOf(ref: string, events = 1, version = 1): Snapshot {
  return {
    version,
    object: objectRowOf(ref, { finished: 1, delivered: events }),
    events: Array.from({ length: events }, (_, i) => eventRowOf(ref, i)),
  };
}

async function eventsOf(ref: string): Promise<number> {
  const row = await env.READ_MODEL.prepare("SELECT count(*) AS n FROM events WHERE object_ref = ?")
    .bind(ref)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("the read model's writer", () => {
  it("commits snapshots sent together in fewer batches than snapshots, and answers each", async () => {
    const writer = readModelWriter(env);
    const before = await writer.stats();
    const refs = Array.from({ length: 30 }, (_, i) => uniqueRef(`w${i}`));
    const answers = await Promise.all(refs.map((ref) => writer.apply(snapshotOf(ref))));
    expect(answers.every((a) => a.ok)).toBe(true);
    for (const ref of refs) expect(await eventsOf(ref)).toBe(1);
    const after = await writer.stats();
    expect(after.snapshots - before.snapshots).toBe(30);
    // Arrivals trickle in over a few ms: the first batch goes at once, the rest gather behind it.
    expect(after.batches - before.batches).toBeLessThanOrEqual(10);
  });

  it("a snapshot D1 refuses fails only its own ledger; the others in its batch commit", async () => {
    const writer = readModelWriter(env);
    const good = [uniqueRef("w-good"), uniqueRef("w-good")];
    const bad = snapshotOf(uniqueRef("w-bad"));
    const refused: Snapshot = { ...bad, events: bad.events.map((e) => ({ ...e, status: null as unknown as string })) };
    const [first, broken, second] = await Promise.all([
      writer.apply(snapshotOf(good[0] as string)),
      writer.apply(refused),
      writer.apply(snapshotOf(good[1] as string)),
    ]);
    expect([first?.ok, second?.ok]).toEqual([true, true]);
    expect(broken?.ok).toBe(false);
    expect(broken?.ok === false && broken.error).toContain("NOT NULL");
    for (const ref of good) expect(await eventsOf(ref)).toBe(1);
    expect(await eventsOf(bad.object.object_ref)).toBe(0);
  });

  it("a snapshot larger than one batch is committed alone, whole", async () => {
    const writer = readModelWriter(env);
    const [big, small] = [uniqueRef("w-big"), uniqueRef("w-small")];
    const answers = await Promise.all([writer.apply(snapshotOf(big, 150)), writer.apply(snapshotOf(small))]);
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    expect([await eventsOf(big), await eventsOf(small)]).toEqual([150, 1]);
  });
});

describe("READ_MODEL_WRITERS", () => {
  it("spreads objects over that many writers, each object always to the same one", () => {
    const four = testEnv({ READ_MODEL_WRITERS: "4" });
    const names = Array.from({ length: 40 }, (_, i) => `portone:payment:ref-${i}`);
    const ids = names.map((name) => writerOf(four, name).id.toString());
    expect(new Set(ids).size).toBe(4);
    expect(names.map((name) => writerOf(four, name).id.toString())).toEqual(ids);
    expect(new Set(names.map((name) => writerOf(testEnv(), name).id.toString())).size).toBe(1);
  });
});
