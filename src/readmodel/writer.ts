// The read model's writer: a Durable Object that applies the ledgers' snapshots to D1 together, in one
// batch for many ledgers (a group commit); a few of them, each for its share of the objects (writerOf). A D1 query costs far more than its rows (a round trip
// and a transaction), and D1 runs one query at a time, so a query per ledger per run was the largest
// cost of a new event and the read model's ceiling. The writer keeps nothing: a ledger's call returns
// once the batch holding its snapshot has committed or failed (answered, not thrown across RPC), and
// only when it committed does the ledger move its cursor (ledger/read-model.ts). An evicted writer or
// a failed D1 loses nothing: the ledger sends the same changes again later.
// A batch goes at once while snapshots come one at a time. Snapshots that come while a batch is in
// flight gather for the next; once batches carry more than one (the writer is under load), the next
// starts no sooner than SPACING_MS after the last began, so they grow instead of queueing one query
// each (up to MAX_STATEMENTS; a larger snapshot goes alone). A lone ledger never waits for company.
// A failed batch of several snapshots is tried again one snapshot at a time, so a snapshot D1 refuses
// fails only its own ledger.
// The writer sees every ledger's sends, so it is the one place that says the read model lags: when D1
// has refused every snapshot for more than 5 minutes it raises readmodel.lagging, and the first
// snapshot D1 takes after resolves it (per ledger, the alert opened and closed as each ledger's own
// retries failed or went through). Gives up: an evicted writer starts its 5 minutes again.

import { DurableObject } from "cloudflare:workers";
import { raiseAlert, resolveAlert } from "../alerts/report";
import { loadConfig } from "../config";
import { READ_MODEL_LAG_MS } from "../alerts/kinds";
import { clock } from "../lib/clock";
import { errorText } from "../lib/result";
import { snapshotStatements, type Snapshot } from "./rows";

/** Under load, the least time between the starts of two batches, in ms: the most a snapshot waits
 *  for company. */
const SPACING_MS = 100;
/** Statements in one batch, at most (a snapshot is its object's row and one per changed event). */
const MAX_STATEMENTS = 100;

interface Waiting {
  readonly snapshot: Snapshot;
  readonly settle: (outcome: Applied) => void;
}

/** Whether D1 committed a snapshot; a failure is answered, not thrown across RPC (as the ledger does). */
export type Applied = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface WriterStats {
  /** Snapshots D1 took, and the batches they took. */
  readonly snapshots: number;
  readonly batches: number;
}

export class ReadModelWriter extends DurableObject<Env> {
  #queue: Waiting[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #sending = false;
  #lastStart = 0;
  /** Snapshots the last batch carried: more than one means others are coming too. */
  #lastSize = 0;
  #stats = { snapshots: 0, batches: 0 };
  /** Since when D1 has refused every snapshot (null: it took the last one), and whether the lag was raised. */
  #failingSince: number | null = null;
  #lagRaised = false;

  /** Applies one ledger's snapshot with whatever else is waiting; answers once D1 committed it or failed. */
  apply(snapshot: Snapshot): Promise<Applied> {
    return new Promise<Applied>((settle) => {
      this.#queue.push({ snapshot, settle });
      this.#schedule();
    });
  }

  stats(): WriterStats {
    return { ...this.#stats };
  }

  #schedule(): void {
    if (this.#sending || this.#timer !== null || this.#queue.length === 0) return;
    const full = this.#queue.reduce((n, w) => n + statementsOf(w.snapshot), 0) >= MAX_STATEMENTS;
    // The wall clock, not the clock seam: this paces a real timer between batches, not stored time.
    const wait = full || this.#lastSize <= 1 ? 0 : Math.max(0, this.#lastStart + SPACING_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#send();
    }, wait);
  }

  async #send(): Promise<void> {
    const batch = this.#take();
    this.#sending = true;
    this.#lastStart = Date.now(); // the timer's wall clock (#schedule)
    this.#lastSize = batch.length;
    try {
      await this.#commit(batch);
    } finally {
      this.#sending = false;
      this.#schedule();
    }
  }

  /** The oldest waiting snapshots that fit in one batch (at least one). */
  #take(): Waiting[] {
    let statements = 0;
    let n = 0;
    while (n < this.#queue.length) {
      statements += statementsOf((this.#queue[n] as Waiting).snapshot);
      if (n > 0 && statements > MAX_STATEMENTS) break;
      n += 1;
    }
    return this.#queue.splice(0, n);
  }

  async #commit(batch: readonly Waiting[]): Promise<void> {
    const db = this.env.READ_MODEL;
    try {
      await db.batch(batch.flatMap((w) => snapshotStatements(db, w.snapshot)));
    } catch (error) {
      if (batch.length > 1) {
        for (const waiting of batch) await this.#commit([waiting]);
        return;
      }
      (batch[0] as Waiting).settle({ ok: false, error: errorText(error) });
      await this.#refused();
      return;
    }
    await this.#taken();
    this.#stats.batches += 1;
    this.#stats.snapshots += batch.length;
    for (const waiting of batch) waiting.settle({ ok: true });
  }

  async #refused(): Promise<void> {
    const now = clock.now();
    this.#failingSince ??= now;
    if (this.#lagRaised || now - this.#failingSince <= READ_MODEL_LAG_MS) return;
    this.#lagRaised = true;
    await raiseAlert(this.env, { kind: "readmodel.lagging", subject: "d1" });
  }

  async #taken(): Promise<void> {
    this.#failingSince = null;
    if (!this.#lagRaised) return;
    this.#lagRaised = false;
    await resolveAlert(this.env, "readmodel.lagging", "d1");
  }
}

const statementsOf = (snapshot: Snapshot): number => 1 + snapshot.events.length;

/** The most writers of the read model READ_MODEL_WRITERS may ask for. */
export const MAX_WRITERS = 16;

/** A writer of the read model: shard `shard` (tests and stats pick one; a ledger's is writerOf's).
 *  Writers are objects of their own sharing one D1; a ledger always uses the same one (by its name), so
 *  its snapshots stay in order. One writer takes about 1,000 requests a second (a Durable Object's soft
 *  limit) and a new event costs one: the gateway's first ceiling (docs/scale.md). READ_MODEL_WRITERS
 *  (default 1) spreads the objects over more; at a low rate each then batches fewer snapshots, so one is
 *  the default (the bench measured 4 at 70 events a second: about a fifth more CPU per new event). */
export function readModelWriter(env: Env, shard = 0): DurableObjectStub<ReadModelWriter> {
  const locationHint = loadConfig(env).singletonLocation;
  return env.READ_MODEL_WRITER.get(env.READ_MODEL_WRITER.idFromName(`read-model-${shard}`), { locationHint });
}

/** The writer of a ledger's snapshots: always the same for one object name (FNV-1a of it). */
export function writerOf(env: Env, objectName: string): DurableObjectStub<ReadModelWriter> {
  let hash = 0x811c9dc5;
  for (let i = 0; i < objectName.length; i++) hash = Math.imul(hash ^ objectName.charCodeAt(i), 0x01000193);
  return readModelWriter(env, (hash >>> 0) % loadConfig(env).readModelWriters);
}

/** Applies a ledger's snapshot through its writer; throws when D1 failed (the ledger retries). */
export async function applyThroughWriter(env: Env, snapshot: Snapshot): Promise<void> {
  const applied = await writerOf(env, snapshot.object.object).apply(snapshot);
  if (!applied.ok) throw new Error(applied.error);
}
