// The ledger: one Durable Object per payment object, the only place state changes. It coordinates;
// each concern lives beside it: recording (record.ts) and the outbox (outbox.ts) through one storage
// seam (store.ts, whose write() is the only transaction), hints (confirmations.ts, confirm.ts), PortOne's
// checks (portone-checks.ts), the alarm's delivery run (alarm.ts), the read model's feed (read-model.ts),
// retention and the operator's report. Its input gate serializes calls, and a recording runs in one
// SQLite transaction, so concurrent copies of one event cannot both be accepted; an accepted event's
// outbox entry is written in that same transaction: an event acknowledged to the provider is always
// either delivered or visibly waiting. Callers reach it through client.ts, which carries its name.

import { DurableObject } from "cloudflare:workers";
import { loadConfig, type Config } from "../config";
import { clearAlert } from "../alerts/report";
import { applyThroughWriter } from "../readmodel/writer";
import { clock } from "../lib/clock";
import { log, setLogLevel } from "../lib/log";
import { errorText } from "../lib/result";
import { MINUTE_MS, SECOND_MS } from "../lib/time";
import { earliest, runAlarm } from "./alarm";
import { inspectObject, type ObjectReport } from "./inspect";
import { meta } from "./meta";
import { rememberObjectName, storedObjectName } from "./object-name";
import { Outbox, type Requeue } from "./outbox";
import { routeOf } from "./routing";
import { PortOneChecks, type CheckResult, type PortOneCheck } from "./portone-checks";
import { ReadModelFeed } from "./read-model";
import { recordEvent, type NotStored, type RecordInput, type RecordOutcome } from "./record";
import { Confirmations, type HintInput } from "./confirmations";
import { confirmersFor } from "./confirmers";
import { purge, type PurgeResult } from "./retention";
import { migrate } from "./schema";
import { LedgerStore } from "./store";

export type { NotStored, RecordInput, RecordOutcome, RecordResult } from "./record";

/** When a failed alarm run is tried again at the latest, in ms, should the runtime's retries run out. */
const FAILED_RUN_RETRY_MS = 5 * MINUTE_MS;
/** How long a run that keeps forwarding may leave the read model behind, in ms (the contract lists
 *  an event within 10 s); a run that ends sooner sends one snapshot, at its end. */
const READ_MODEL_MAX_LAG_MS = 5 * SECOND_MS;
/** An alarm this far in the past was set but never ran: the watchdog sets it again. */
const LOST_ALARM_MS = MINUTE_MS;

export class Ledger extends DurableObject<Env> {
  readonly #config: Config;
  readonly #store: LedgerStore;
  readonly #outbox: Outbox;
  readonly #confirmations: Confirmations;
  readonly #portone: PortOneChecks;
  #readModel: ReadModelFeed;
  /** The delivery run in progress in this instance, if any. */
  #delivering: Promise<void> | null = null;
  /** Attempts an earlier instance left in flight (evicted mid-request): closed by the first run. */
  #interruptedClosed = false;
  /** Whether this object has hints to confirm (learned once, then kept up to date). */
  #hasHints: boolean | null = null;
  /** This object's name, as a recording passed it or storage remembers it (null: not learned yet). */
  #name: string | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadConfig(env);
    setLogLevel(this.#config.logLevel);
    this.#store = new LedgerStore(ctx.storage);
    this.#outbox = new Outbox(this.#store, routeOf(this.#config));
    this.#confirmations = new Confirmations(this.#store);
    this.#portone = new PortOneChecks(this.#store, this.#outbox, this.#config.portone);
    this.#readModel = this.#feed();
    void ctx.blockConcurrencyWhile(async () => {
      // A new object holds no event and no refund yet, and no attempt an earlier instance left in flight.
      if ((await migrate(ctx.storage)) !== "fresh") return;
      this.#store.created();
      [this.#hasHints, this.#interruptedClosed] = [false, true];
    });
  }

  /** Records one verified event: a duplicate changes nothing, a stale one is kept as history only.
   *  A storage failure is answered as `not_stored` (logged here with its reason) rather than thrown
   *  across RPC: nothing was stored, and the edge answers 5xx so that the provider retries. */
  async record(objectName: string, input: RecordInput): Promise<RecordOutcome | NotStored> {
    const now = clock.now();
    this.#name = objectName;
    let outcome: RecordOutcome;
    try {
      const after = (recorded: RecordOutcome): void => this.#portone.afterRecord(input, recorded, now);
      outcome = recordEvent(this.#store, this.#outbox, input, objectName, after);
    } catch (thrown) {
      const fields = { object_name: objectName, event_id: input.eventId, error: errorText(thrown) };
      log("error", "event not stored: the object's storage failed", fields);
      return { result: "not_stored", error: errorText(thrown) };
    }
    // Wake now, whatever alarm is set for later: the event may be due at once at another destination,
    // and an accepted or stale event reaches the read model within seconds. A duplicate re-arms pending
    // work that lost its alarm (a run gave up, see alarm()).
    const work = outcome.result !== "duplicate" || this.#portone.wakesOnDuplicate(input);
    if (work || ((await this.ctx.storage.getAlarm()) === null && this.#outbox.hasPending())) await this.#wake(now);
    return outcome;
  }

  /** Keeps a hint (PortOne's refund webhook, an API-confirmed scheme's notification) for the alarm to
   *  confirm with its provider's API; "limited" when this object holds as many hints as it may. */
  async recordHint(objectName: string, hint: HintInput): Promise<"accepted" | "duplicate" | "limited"> {
    const now = clock.now();
    const kept = this.#store.write((sql) => {
      rememberObjectName(sql, objectName);
      return this.#confirmations.recordHint(hint, now, meta.get(sql, "payment_unknown_at"));
    });
    if (kept === "new" || kept === "restarted") {
      this.#hasHints = true;
      await this.#wake(this.#confirmations.nextDue() ?? now);
    }
    return kept === "new" ? "accepted" : kept === "limited" ? "limited" : "duplicate";
  }

  /** Asks PortOne's API about this object, or records a payment or charge PortOne's list names. */
  async checkWithPortOne(objectName: string, request: PortOneCheck): Promise<CheckResult> {
    const result = await this.#portone.check(objectName, request);
    if (result.changed > 0) await this.#wake(clock.now()); // forwarded, and the read model learns of it
    return result;
  }

  /** A destination can take events again (resumed, or its breaker closed): this object's events
   *  waiting for it are due now (the gate's limits still apply when they are sent). */
  async wakeFor(destination: string): Promise<void> {
    const now = clock.now();
    if (this.#outbox.makeDue(destination, now) > 0) await this.#wake(now);
  }

  /** The cron's watchdog (reconcile/watchdog.ts): pending work whose alarm is missing, or whose alarm
   *  lies more than a minute in the past (set but never run), gets an alarm now. True when it had to. */
  async ensureAlarm(): Promise<boolean> {
    if (!this.#outbox.hasPending()) return false;
    const [set, now] = [await this.ctx.storage.getAlarm(), clock.now()];
    if (set !== null && set > now - LOST_ALARM_MS) return false;
    await this.ctx.storage.setAlarm(now);
    return true;
  }

  /** Confirms due refunds, reads due charges and forwards the outbox (alarm.ts). Runs never overlap in
   *  an instance. A failed run throws to the runtime's retries, with a fallback alarm set first. */
  override async alarm(): Promise<void> {
    while (this.#delivering) await this.#delivering.catch(() => undefined);
    this.#delivering = this.#run().finally(() => (this.#delivering = null));
    try {
      await this.#delivering;
    } catch (err) {
      await this.#wake(clock.now() + FAILED_RUN_RETRY_MS);
      const fields = { object_name: storedObjectName(this.#store.sql), error: errorText(err) };
      log("error", "alarm run failed; retried by the runtime and by a fallback alarm", fields);
      throw err;
    }
  }

  async #run(): Promise<void> {
    if (!this.#interruptedClosed) {
      this.#outbox.closeInterrupted(clock.now());
      this.#interruptedClosed = true;
    }
    this.#hasHints ??= this.#confirmations.any();
    let sentAt = clock.now();
    const objectName = (): string | null => (this.#name ??= storedObjectName(this.#store.sql));
    const beforeEachForward = async (): Promise<void> => {
      if (clock.now() - sentAt < READ_MODEL_MAX_LAG_MS) return;
      await this.#readModel.sync();
      sentAt = clock.now();
    };
    if (this.#portone.dueAt() !== null) await this.#portone.runDue();
    const [store, env, config, outbox] = [this.#store, this.env, this.#config, this.#outbox];
    const hints = this.#hasHints
      ? { confirmations: this.#confirmations, confirmers: confirmersFor(config, objectName) }
      : null;
    await runAlarm({ store, env, config, outbox, hints, beforeEachForward, objectName });
    // At most a moment's wait: a slow D1 never holds the next delivery (the send goes on by itself).
    await this.#readModel.sync();
    await this.#rearm();
  }

  #feed(): ReadModelFeed {
    const apply = (snapshot: Parameters<typeof applyThroughWriter>[1]) => applyThroughWriter(this.env, snapshot);
    return new ReadModelFeed(this.#store, apply, (at) => this.#wake(at));
  }

  /** Sets the alarm for the earliest work due, read after the run's last await (no await between the
   *  read and the set: what arrived meanwhile is in storage). Inside a run getAlarm() is null unless
   *  something set an alarm since it began: deleting only then saves a write per run. */
  async #rearm(): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    const now = clock.now();
    const due = [
      this.#hasHints ? this.#confirmations.nextDue() : null,
      this.#readModel.dueAt(now),
      this.#portone.dueAt(),
    ];
    const wake = due.reduce(earliest, this.#outbox.nextDue());
    // An event not yet begun for a destination is due from time 0 (the `deliveries` view): now.
    if (wake !== null) await this.ctx.storage.setAlarm(Math.max(wake, now));
    else if (set !== null) await this.ctx.storage.deleteAlarm();
  }

  /** The one way to wake this object: sets the alarm for `at` unless one is set as soon. Only the end
   *  of a run (#rearm) sets a later time: it consumed the alarm that woke it, and knows what is due. */
  async #wake(at: number): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > at) await this.ctx.storage.setAlarm(at);
  }

  /** Retention: purges this object's history if it is finished, settled and quiet since `cutoff`. */
  purge(cutoff: number): PurgeResult {
    const result = purge(this.#store, cutoff, clock.now());
    if (result.purged) [this.#readModel, this.#hasHints] = [this.#feed(), null];
    return result;
  }

  /** State, history, deliveries and attempts of this object, for the operator API. */
  inspect(): ObjectReport {
    return inspectObject(this.#store.sql, clock.now());
  }

  /** Re-queues accepted events with a fresh retry budget, in their order: some (at every destination,
   *  or only where they are dead letters), or every dead letter. Returns the ids re-queued. */
  async redeliver(where: Requeue): Promise<string[]> {
    const now = clock.now();
    const { ids, deadCleared } = this.#outbox.requeue(where, now);
    if (ids.length > 0) await this.#wake(now);
    for (const [destination, n] of deadCleared) await clearAlert(this.env, "delivery.dead_letter", destination, n);
    return ids;
  }
}
