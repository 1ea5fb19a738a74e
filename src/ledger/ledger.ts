// The ledger: one Durable Object per payment object, the only place state changes.
// Its input gate serializes calls, and record() runs synchronously in one SQLite transaction, so
// concurrent copies of one event cannot both be accepted. An accepted event's outbox row is
// written in that same transaction: an event acknowledged to the provider is always either
// delivered or visibly waiting. The alarm confirms refunds, forwards the outbox (alarm.ts), and
// sends what changed to the cross-object read model (read-model.ts). The KV "seen" marker at the
// edge is only a hint that saves waking this object.

import { DurableObject } from "cloudflare:workers";
import { loadConfig, type Config } from "../config";
import { clock } from "../lib/clock";
import { describeConfigError } from "../lib/config-error";
import { log, setLogLevel } from "../lib/log";
import { errorText } from "../lib/result";
import { earliest, runAlarm } from "./alarm";
import { inspectObject, type ObjectReport } from "./inspect";
import { objectNameOf, objectNameParts, rememberObjectName, storedObjectName } from "./object-name";
import { meta } from "./meta";
import { ReadModelFeed } from "./read-model";
import { applyThroughWriter } from "../readmodel/writer";
import { Outbox, type Requeue, type Route } from "./outbox";
import { takes } from "../config/destinations";
import { recordEvent, type NotStored, type RecordInput, type RecordOutcome } from "./record";
import { Refunds, type RefundHintInput } from "./refunds";
import { migrate } from "./schema";
import {
  checkCharges,
  checkObject,
  chargesDueAt,
  chargesToRead,
  isActiveSubscription,
  markChargesDue,
  recordCharge,
  recordObserved,
  type CheckResult,
} from "./check-with-portone";
import { purge, type PurgeResult } from "./retention";
import { clearAlert } from "../alerts/report";
import type { Charge, Observed } from "../egress/portone/lookups";

export type { NotStored, RecordInput, RecordOutcome, RecordResult } from "./record";

/** When a failed alarm run is tried again at the latest, in ms, should the runtime's retries run out. */
const FAILED_RUN_RETRY_MS = 5 * 60 * 1000;
/** How long a run that keeps forwarding may leave the read model behind, in ms (the contract lists
 *  an event within 10 s); a run that ends sooner sends one snapshot, at its end. */
const READ_MODEL_MAX_LAG_MS = 5_000;
/** An alarm this far in the past was set but never ran: the watchdog sets it again. */
const LOST_ALARM_MS = 60_000;
/** When reading a subscription's charges is tried again after the API was unavailable, in ms. */
const CHARGES_RETRY_MS = 60_000;

export class Ledger extends DurableObject<Env> {
  readonly #config: Config;
  readonly #outbox: Outbox;
  readonly #refunds: Refunds;
  #readModel: ReadModelFeed;
  /** The delivery run in progress in this instance, if any. */
  #delivering: Promise<void> | null = null;
  /** Attempts left in flight by an earlier instance (evicted mid-request): closed on the first run.
   *  A run of this instance that fails closes its own attempt before it throws. */
  #interruptedClosed = false;
  /** Whether this instance created the object's schema and nothing was recorded since: a first
   *  event then has nothing to be a duplicate of and no state to read. Every write clears it. */
  #empty = false;
  /** Whether this object has refunds to confirm (learned once, then kept up to date). */
  #hasRefunds: boolean | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadConfig(env);
    setLogLevel(this.#config.logLevel);
    this.#outbox = new Outbox(ctx.storage.sql, routeOf(this.#config));
    this.#refunds = new Refunds(ctx.storage.sql);
    this.#readModel = this.#feed();
    void ctx.blockConcurrencyWhile(async () => {
      // A new object holds no event and no refund yet (whatever records one says so), and no attempt
      // an earlier instance left in flight.
      if ((await migrate(ctx.storage)) === "fresh")
        [this.#empty, this.#hasRefunds, this.#interruptedClosed] = [true, false, true];
    });
  }

  /** Records one verified event: a duplicate changes nothing, a stale one is kept as history only.
   *  A storage failure is answered as `not_stored` (logged here with its reason) rather than thrown
   *  across RPC: nothing was stored, and the edge answers 5xx so that the provider retries. */
  async record(name: string, input: RecordInput): Promise<RecordOutcome | NotStored> {
    const now = clock.now();
    let outcome: RecordOutcome;
    try {
      const empty = this.#empty;
      this.#empty = false;
      outcome = this.ctx.storage.transactionSync(() => {
        const recorded = recordEvent(this.ctx.storage.sql, this.#outbox, input, name, empty);
        if (chargesToRead(input, recorded)) markChargesDue(this.ctx.storage.sql, now);
        return recorded;
      });
    } catch (thrown) {
      log("error", "event not stored: the object's storage failed", {
        object: name,
        event_id: input.eventId,
        error: errorText(thrown),
      });
      return { result: "not_stored", error: errorText(thrown) };
    }
    if (outcome.result !== "duplicate" || isActiveSubscription(input)) {
      // Wake now, whatever alarm is set for later (a retry's backoff, a wait the gate gave at one
      // destination): the event may be due at once at another destination, and an accepted or stale
      // event reaches the read model within seconds. The run sets the next alarm from what is due.
      await this.#wake(now);
    } else if ((await this.ctx.storage.getAlarm()) === null && this.#outbox.hasPending()) {
      // Pending work but no alarm (a run gave up, see alarm()): any event re-arms it.
      await this.#wake(now);
    }
    return outcome;
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
    const set = await this.ctx.storage.getAlarm();
    const now = clock.now();
    if (set !== null && set > now - LOST_ALARM_MS) return false;
    await this.ctx.storage.setAlarm(now);
    return true;
  }

  /** Keeps an unsigned refund hint (in `name`, its payment's object) and has the alarm confirm the
   *  refund with PortOne's API; "limited" when the payment holds as many hints as it may. */
  async recordRefundHint(name: string, hint: RefundHintInput): Promise<"accepted" | "duplicate" | "limited"> {
    const now = clock.now();
    const sql = this.ctx.storage.sql;
    this.#empty = false;
    const kept = this.ctx.storage.transactionSync(() => {
      rememberObjectName(sql, name);
      return this.#refunds.recordHint(hint, now, meta.get(sql, "payment_unknown_at"));
    });
    if (kept === "new" || kept === "restarted") {
      this.#hasRefunds = true;
      await this.#wake(this.#refunds.nextDue() ?? now);
    }
    return kept === "new" ? "accepted" : kept === "limited" ? "limited" : "duplicate";
  }

  /**
   * Confirms due refunds and forwards the outbox in order; see alarm.ts.
   * Runs never overlap in one instance (an alarm set meanwhile or a test may fire while a run awaits
   * the origin): a second call waits for the first, then runs for whatever is still due.
   * A run that fails (storage or KV down) throws so the runtime retries it; the runtime gives up
   * after a few retries, so a fallback alarm is set first and the outbox is never left unattended.
   */
  override async alarm(): Promise<void> {
    while (this.#delivering) await this.#delivering.catch(() => undefined);
    this.#delivering = this.#run().finally(() => {
      this.#delivering = null;
    });
    try {
      await this.#delivering;
    } catch (err) {
      await this.#wake(clock.now() + FAILED_RUN_RETRY_MS);
      log("error", "alarm run failed; retried by the runtime and by a fallback alarm", {
        object: storedObjectName(this.ctx.storage.sql),
        error: errorText(err),
      });
      throw err;
    }
  }

  async #run(): Promise<void> {
    if (!this.#interruptedClosed) {
      this.#outbox.closeInterrupted(clock.now());
      this.#interruptedClosed = true;
    }
    this.#hasRefunds ??= this.#refunds.any();
    const refunds = this.#hasRefunds ? this.#refunds : null;
    let sentAt = clock.now();
    const keepReadModelCurrent = async (): Promise<void> => {
      if (clock.now() - sentAt < READ_MODEL_MAX_LAG_MS) return;
      await this.#readModel.sync();
      sentAt = clock.now();
    };
    await this.#readChargesIfDue();
    let name: string | null = null;
    const ledger = (): string => (name ??= storedObjectName(this.ctx.storage.sql));
    await runAlarm(this.ctx.storage, this.env, this.#config, this.#outbox, refunds, keepReadModelCurrent, ledger);
    // At most a moment's wait: a slow D1 never holds the next delivery (the send goes on by itself).
    await this.#readModel.sync();
    await this.#rearm();
  }

  #feed(): ReadModelFeed {
    return new ReadModelFeed(
      this.ctx.storage.sql,
      (snapshot) => applyThroughWriter(this.env, snapshot),
      (at) => this.#wake(at),
    );
  }

  /**
   * Sets the alarm for the earliest work due, read from storage after the run's last await, with
   * no await between the read and the set: an event or a refund hint recorded while the run
   * awaited the origin or PortOne's API is in storage by then, so a run never erases its alarm.
   */
  async #rearm(): Promise<void> {
    // Inside a run getAlarm() is null unless something set an alarm since the run began: deleting
    // only then saves a write per run. Read first, so nothing awaits between the read of the work
    // due and the set.
    const set = await this.ctx.storage.getAlarm();
    const readModel = this.#readModel.dueAt(clock.now());
    const wake = [
      this.#hasRefunds ? this.#refunds.nextDue() : null,
      readModel,
      chargesDueAt(this.ctx.storage.sql),
    ].reduce(earliest, this.#outbox.nextDue());
    // An event not yet begun for a destination is due from time 0 (the `deliveries` view): now.
    if (wake !== null) await this.ctx.storage.setAlarm(Math.max(wake, clock.now()));
    else if (set !== null) await this.ctx.storage.deleteAlarm();
  }

  /** Runs a recording in one SQLite transaction (reconciliation records after awaiting the API). */
  readonly #transaction = (write: () => RecordOutcome): RecordOutcome => {
    this.#empty = false;
    return this.ctx.storage.transactionSync(write);
  };

  /** The one way to wake this object: sets the alarm for `at` unless one is set as soon. Only the end
   *  of a run (#rearm) sets a later time: it consumed the alarm that woke it, and knows what is due. */
  async #wake(at: number): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > at) await this.ctx.storage.setAlarm(at);
  }

  /** Reads a subscription's charges when an Active webhook asked for it; retried with backoff while
   *  the API is unavailable, left to the next reconciliation pass on any other failure. */
  async #readChargesIfDue(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const due = chargesDueAt(sql);
    if (due === null || due > clock.now()) return;
    const ledger = storedObjectName(sql);
    const { ref } = objectNameParts(ledger);
    const result = await checkCharges(
      sql,
      this.#outbox,
      this.#config.portone,
      { ref, ledger },
      clock.now(),
      this.#transaction,
    );
    const retry = result.failure?.kind === "unavailable" ? clock.now() + CHARGES_RETRY_MS : null;
    if (result.failure !== null)
      log(result.failure.kind === "auth" ? "error" : "warn", "subscription charges not read", {
        object: ledger,
        failure: result.failure.kind,
        reason: result.failure.reason,
      });
    markChargesDue(sql, retry);
  }

  /** Asks PortOne's API what it knows of this object and records a status it has not had (a
   *  reconciliation pass calls this; see reconcile/pass.ts and check-with-portone.ts). */
  async reconcile(ledger: string): Promise<CheckResult> {
    const sql = this.ctx.storage.sql;
    const { kind, ref } = objectNameParts(ledger);
    const now = clock.now();
    const target = { kind, ref, ledger };
    const result = await checkObject(sql, this.#outbox, this.#config.portone, target, now, this.#transaction);
    meta.set(sql, "reconciled", {
      at: new Date(now).toISOString(),
      changed: result.changed,
      failure: result.failure?.kind ?? null,
    });
    if (result.changed > 0) await this.#wake(now); // forwarded, and the read model learns of it
    return result;
  }

  /** Records a payment PortOne lists that this object has no such status for (the sweep). */
  async recordListed(ledger: string, observed: Observed): Promise<number> {
    const sql = this.ctx.storage.sql;
    const { ref } = objectNameParts(ledger);
    const changed = await recordObserved(
      sql,
      this.#outbox,
      { kind: "payment", ref, ledger },
      observed,
      clock.now(),
      this.#transaction,
    );
    if (changed > 0) await this.#wake(clock.now());
    return changed;
  }

  /** Records a subscription charge PortOne's payment list names (the sweep) on this, its
   *  subscription's object; deduplicated with the same charge read from txns-records. */
  async recordListedCharge(ledger: string, charge: Charge): Promise<number> {
    const sql = this.ctx.storage.sql;
    const { ref } = objectNameParts(ledger);
    const changed = await recordCharge(sql, this.#outbox, { ref, ledger }, charge, clock.now(), this.#transaction);
    if (changed > 0) await this.#wake(clock.now());
    return changed;
  }

  /** Retention: purges this object's history if it is finished, settled and quiet since `cutoff`. */
  purge(cutoff: number): PurgeResult {
    const result = purge(this.ctx.storage, cutoff, clock.now());
    if (result.purged) {
      this.#readModel = this.#feed();
      this.#hasRefunds = null;
      log("info", "history purged after the retention period", {
        object: storedObjectName(this.ctx.storage.sql),
        events_removed: result.eventsRemoved,
      });
    }
    return result;
  }

  /** State, history, deliveries and attempts of this object, for the operator API. */
  inspect(): ObjectReport {
    return inspectObject(this.ctx.storage.sql, clock.now());
  }

  /** Re-queues accepted events with a fresh retry budget, in their order: at every destination, or
   *  (`onlyDead`) only where they are dead letters, so a destination that took them is not sent them again. */
  async redeliver(eventIds: readonly string[], onlyDead = false): Promise<string[]> {
    return this.#requeue(onlyDead ? { eventIds, state: "dead" } : { eventIds });
  }

  /** Re-queues every dead letter of this object, in their original order. */
  async redeliverDead(): Promise<string[]> {
    return this.#requeue({ state: "dead" });
  }

  async #requeue(where: Requeue): Promise<string[]> {
    const now = clock.now();
    const { ids, deadCleared } = this.ctx.storage.transactionSync(() => this.#outbox.requeue(where, now));
    if (ids.length > 0) await this.#wake(now);
    for (const [destination, n] of deadCleared) await clearAlert(this.env, "delivery.dead_letter", destination, n);
    return ids;
  }
}

/** The destinations that take a type. With DESTINATIONS invalid nothing can be routed: recording
 *  throws (the provider gets a 5xx and retries; an alarm run retries) instead of losing a destination. */
function routeOf(config: Config): Route {
  return (type) => {
    if (!config.destinations.ok) throw new Error(describeConfigError(config.destinations.error));
    return config.destinations.value.filter((d) => takes(d, type)).map((d) => d.name);
  };
}

/** The Durable Object of an object's name (provider:kind:ref, object-name.ts), as the read model lists it. */
export function ledgerByName(env: Env, name: string): DurableObjectStub<Ledger> {
  return env.LEDGER.get(env.LEDGER.idFromName(name));
}

/** The Durable Object that holds a payment object: one per provider, kind and reference. */
export function ledgerFor(env: Env, provider: string, kind: string, objectRef: string): DurableObjectStub<Ledger> {
  return env.LEDGER.get(env.LEDGER.idFromName(objectNameOf(provider, kind, objectRef)));
}
