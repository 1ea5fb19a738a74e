// The ledger: one Durable Object per payment object, the only place state changes.
// Its input gate serializes calls, and record() runs synchronously in one SQLite transaction, so
// concurrent copies of one event cannot both be accepted. An accepted event's outbox row is
// written in that same transaction: an event acknowledged to the provider is always either
// delivered or visibly waiting. The alarm forwards the outbox (see delivery.ts).
// The KV "seen" marker at the edge is only a hint that saves waking this object.

import { DurableObject } from "cloudflare:workers";
import { clock } from "../clock";
import { unindexDeadLetter } from "../edge/dead-letters";
import type { StatusPosition } from "../providers/types";
import { advance, decide, type ObjectState } from "./decide";
import { runDeliveries } from "./delivery";
import { inspectObject, type ObjectReport } from "./inspect";
import { Outbox } from "./outbox";
import { migrate } from "./schema";

export interface RecordInput {
  readonly provider: string;
  readonly kind: string;
  readonly objectRef: string;
  readonly eventId: string;
  readonly status: string;
  readonly position: StatusPosition;
  /** The verified payload, re-serialized JSON. */
  readonly payload: string;
  /** ISO 8601 time the gateway received the event. */
  readonly receivedAt: string;
}

export type RecordResult = "accepted" | "duplicate" | "stale";

export interface RecordOutcome {
  readonly result: RecordResult;
  readonly eventId: string;
  /** Position of the event in this object's history (1-based, arrival order). */
  readonly seq: number;
  readonly status: string;
  /** The object's status before this event; null for its first. */
  readonly previousStatus: string | null;
}

type StateRow = { status: string; rank: number | null; terminal: number };
type EventRow = { seq: number; status: string; previous_status: string | null };

export class Ledger extends DurableObject<Env> {
  readonly #outbox: Outbox;
  /** The delivery run in progress in this instance, if any. */
  #delivering: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#outbox = new Outbox(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage));
  }

  /** Records one verified event: a duplicate changes nothing, a stale one is kept as history only. */
  async record(input: RecordInput): Promise<RecordOutcome> {
    const now = clock.now();
    let wakeDelivery = false;
    const outcome = this.ctx.storage.transactionSync((): RecordOutcome => {
      const known = this.#findEvent(input.eventId);
      if (known) {
        return { result: "duplicate", eventId: input.eventId, seq: known.seq, status: known.status, previousStatus: known.previous_status };
      }
      const state = this.#readState(input.kind, input.objectRef);
      const result = decide(state, input.position);
      const seq = this.#insertEvent(input, result, state?.status ?? null);
      if (result === "accepted") {
        this.#writeState(input, advance(state, input.status, input.position));
        // With nothing else pending, no alarm is set: this event starts the queue. Otherwise the
        // alarm of the pending head is set already and this event waits behind it.
        wakeDelivery = !this.#outbox.hasPending();
        this.#outbox.enqueue(seq, input.eventId, now);
      }
      return { result, eventId: input.eventId, seq, status: input.status, previousStatus: state?.status ?? null };
    });
    if (wakeDelivery) await this.ctx.storage.setAlarm(now);
    return outcome;
  }

  /**
   * Forwards the outbox in order; see delivery.ts. Throws only to have the runtime retry the alarm.
   * Runs never overlap in one instance (the watchdog alarm or a test may fire while a run awaits
   * the origin): a second call waits for the first, then runs for whatever is still due.
   */
  override async alarm(): Promise<void> {
    while (this.#delivering) await this.#delivering.catch(() => undefined);
    this.#delivering = runDeliveries(this.ctx.storage, this.env, this.#outbox).finally(() => {
      this.#delivering = null;
    });
    await this.#delivering;
  }

  /** State, history, deliveries and attempts of this object, for the operator API. */
  inspect(): ObjectReport {
    return inspectObject(this.ctx.storage.sql);
  }

  /** Re-queues one accepted event (delivered or dead) with a fresh retry budget. */
  async redeliver(eventId: string): Promise<string[]> {
    return this.#requeue({ eventId });
  }

  /** Re-queues every dead letter of this object, in their original order. */
  async redeliverDead(): Promise<string[]> {
    return this.#requeue({ state: "dead" });
  }

  async #requeue(where: { eventId: string } | { state: "dead" }): Promise<string[]> {
    const now = clock.now();
    const requeued = this.ctx.storage.transactionSync(() => this.#outbox.requeue(where, now));
    if (requeued.length === 0) return requeued;
    await this.ctx.storage.setAlarm(now);
    const object = this.#objectName();
    for (const eventId of requeued) await unindexDeadLetter(this.env.SEEN, object, eventId);
    return requeued;
  }

  #objectName(): string {
    const row = this.ctx.storage.sql
      .exec<{ provider: string; kind: string; object_ref: string }>("SELECT provider, kind, object_ref FROM events ORDER BY seq LIMIT 1")
      .toArray()[0];
    return row ? `${row.provider}:${row.kind}:${row.object_ref}` : "";
  }

  #findEvent(eventId: string): EventRow | undefined {
    return this.ctx.storage.sql
      .exec<EventRow>("SELECT seq, status, previous_status FROM events WHERE event_id = ?", eventId)
      .toArray()[0];
  }

  #readState(kind: string, objectRef: string): ObjectState | null {
    const row = this.ctx.storage.sql
      .exec<StateRow>("SELECT status, rank, terminal FROM object_state WHERE kind = ? AND object_ref = ?", kind, objectRef)
      .toArray()[0];
    return row ? { status: row.status, rank: row.rank, terminal: row.terminal === 1 } : null;
  }

  #insertEvent(input: RecordInput, outcome: "accepted" | "stale", previousStatus: string | null): number {
    return this.ctx.storage.sql
      .exec<{ seq: number }>(
        `INSERT INTO events (event_id, provider, kind, object_ref, status, outcome, previous_status, received_at, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
        input.eventId, input.provider, input.kind, input.objectRef, input.status,
        outcome, previousStatus, input.receivedAt, input.payload,
      )
      .one().seq;
  }

  #writeState(input: RecordInput, next: ObjectState): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO object_state (kind, object_ref, provider, status, rank, terminal, last_event_id, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, object_ref) DO UPDATE SET
         status = excluded.status, rank = excluded.rank, terminal = excluded.terminal,
         last_event_id = excluded.last_event_id, updated_at = excluded.updated_at`,
      input.kind, input.objectRef, input.provider, input.status, next.rank,
      next.terminal ? 1 : 0, input.eventId, input.receivedAt,
    );
  }
}

/** The Durable Object that holds a payment object: one per provider, kind and reference. */
export function ledgerFor(env: Env, provider: string, kind: string, objectRef: string): DurableObjectStub<Ledger> {
  return env.LEDGER.get(env.LEDGER.idFromName(`${provider}:${kind}:${objectRef}`));
}
