// A slow or failing read model never holds a delivery: a run waits for D1 at most a moment, the send
// goes on alone and is not repeated while it is out, and the read model catches up once D1 answers.
// The writer that sees D1 refuse every snapshot for more than 5 minutes raises readmodel.lagging, once.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { alertStore } from "../src/alerts/report";
import type { Snapshot } from "../src/readmodel/rows";
import { readModelWriter, type Applied, type ReadModelWriter } from "../src/readmodel/writer";
import { KINDS, deliver, eventFor, ledgerOf, resultOf, uniqueRef } from "./helpers";
import { eventRowOf, objectRowOf } from "./snapshots";
import { envelope, origin, testClock } from "./stand-ins";

type Apply = (snapshot: Snapshot) => Promise<Applied>;

/** Has the writer hold every snapshot until released (D1 taking as long as it likes). */
async function holdWriter(): Promise<{ release: () => Promise<void>; held: () => number }> {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let held = 0;
  // The RPC system calls the class's own methods: the writer's is wrapped on its prototype, then restored.
  let original: Apply | undefined;
  await runInDurableObject(readModelWriter(env), (writer: ReadModelWriter) => {
    const proto = Object.getPrototypeOf(writer) as { apply: Apply };
    const own = proto.apply;
    original = own;
    proto.apply = async function (this: ReadModelWriter, snapshot: Snapshot) {
      held += 1;
      await gate;
      return own.call(this, snapshot);
    };
  });
  return {
    held: () => held,
    release: async () => {
      open();
      await runInDurableObject(readModelWriter(env), (writer: ReadModelWriter) => {
        (Object.getPrototypeOf(writer) as { apply: Apply }).apply = original as Apply;
      });
    },
  };
}

async function listed(ref: string): Promise<number> {
  const row = await env.READ_MODEL.prepare("SELECT count(*) AS n FROM events WHERE object_ref = ?")
    .bind(ref)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("a slow read model", () => {
  it("holds no delivery: each run waits for it a moment at most, and it catches up once D1 answers", async () => {
    const ref = uniqueRef("slow-d1");
    const stub = ledgerOf(KINDS.payment, ref);
    const writer = await holdWriter();
    try {
      expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Pending")))).toBe("accepted");
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await resultOf(await deliver("payment", await eventFor("payment", ref, "Success")))).toBe("accepted");
      testClock.advance(1_000);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      // Both delivered while D1 had not taken the first snapshot; it was sent once, not once per run.
      expect(origin.acknowledged.map((r) => envelope(r).status)).toEqual(["Pending", "Success"]);
      expect(writer.held()).toBe(1);
      expect(await listed(ref)).toBe(0);
    } finally {
      await writer.release();
    }
    await vi.waitFor(async () => expect(await listed(ref)).toBe(1));
    testClock.advance(1_000);
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect(await listed(ref)).toBe(2));
  });
});

describe("readmodel.lagging", () => {
  it("is raised by the writer once D1 has refused every snapshot for 5 minutes, and resolved when it takes one", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const writer = readModelWriter(env);
    const refused = (ref: string): Snapshot => ({
      version: 1,
      object: objectRowOf(ref, { finished: 1 }),
      events: [{ ...eventRowOf(ref, 0), status: null as unknown as string }],
    });
    const lagging = async () => (await alertStore(env).list("open")).some((a) => a.key === "readmodel.lagging:d1");
    expect((await writer.apply(refused(uniqueRef("lag")))).ok).toBe(false);
    testClock.advance(4 * 60_000);
    expect((await writer.apply(refused(uniqueRef("lag")))).ok).toBe(false);
    expect(await lagging()).toBe(false);
    testClock.advance(2 * 60_000);
    expect((await writer.apply(refused(uniqueRef("lag")))).ok).toBe(false);
    expect(await lagging()).toBe(true);
    const ok: Snapshot = { version: 1, object: objectRowOf(uniqueRef("back"), { finished: 1 }), events: [] };
    expect((await writer.apply(ok)).ok).toBe(true);
    expect(await lagging()).toBe(false);
  });
});
