// PortOne's checks of one object, as one part the Ledger builds (design: "Reconciliation and
// retention"): asking PortOne's API what it knows of the object (a reconciliation pass), recording a
// payment or a subscription's charge PortOne's list names (the sweep), and reading a subscription's
// charges once its webhooks say one was made. The Ledger calls it after every recording (afterRecord,
// inside the recording's write) and at every alarm run (runDue); what a check records goes through the
// same state machine and outbox as a webhook (check-with-portone.ts).

import type { PortOneConfig } from "../config";
import type { Charge, Observed } from "../egress/portone/lookups";
import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { SECOND_MS } from "../lib/time";
import { checkCharges, checkObject, recordCharge, recordObserved, type CheckResult } from "./check-with-portone";
import { meta } from "./meta";
import { objectNameParts } from "../providers/names";
import { storedObjectName } from "./object-name";
import type { Outbox } from "./outbox";
import type { RecordInput, RecordOutcome } from "./record";
import type { LedgerStore } from "./store";

export type { CheckResult } from "./check-with-portone";

/** What to check: the object with PortOne's API, or a payment or charge PortOne's list named. */
export type PortOneCheck =
  | { readonly kind: "object" }
  | { readonly kind: "listed"; readonly observed: Observed }
  | { readonly kind: "charge"; readonly charge: Charge };

/** When reading a subscription's charges is tried again after the API was unavailable, in ms. */
const CHARGES_RETRY_MS = 60 * SECOND_MS;

/** An Active subscription webhook: PortOne sends Active again when a charge was made. */
function isActiveSubscription(input: RecordInput): boolean {
  return input.provider === "portone" && input.kind === "subscription_link" && input.status.toLowerCase() === "active";
}

export class PortOneChecks {
  /** charges_due_at as last read or written (undefined: read it again), so that an alarm run does not
   *  read storage to learn that no charges are due. */
  #due: number | null | undefined = undefined;

  constructor(
    private readonly store: LedgerStore,
    private readonly outbox: Outbox,
    private readonly portone: PortOneConfig,
  ) {}

  /** Inside a recording's write: a subscription's charges are read after an Active webhook, and once
   *  more when it leaves Active, so the charge that completed it (or came before its cancellation) is
   *  not lost. */
  afterRecord(input: RecordInput, recorded: RecordOutcome, now: number): void {
    if (input.provider !== "portone" || input.kind !== "subscription_link" || recorded.result === "stale") return;
    const leftActive = recorded.result === "accepted" && recorded.previousStatus?.toLowerCase() === "active";
    if (!isActiveSubscription(input) && !leftActive) return;
    this.store.write((sql) => meta.set(sql, "charges_due_at", now));
    this.#due = undefined; // read again once the recording's write commits (or rolls back)
  }

  /** Whether a duplicate still has work: an Active subscription's charges to read. */
  wakesOnDuplicate(input: RecordInput): boolean {
    return isActiveSubscription(input);
  }

  /** When the subscription's charges are next to be read (null: not due). */
  dueAt(): number | null {
    if (this.#due === undefined) this.#due = meta.get(this.store.sql, "charges_due_at");
    return this.#due;
  }

  /** Reads the charges when due; retried after a minute while the API is unavailable, left to the next
   *  reconciliation pass on any other failure. */
  async runDue(): Promise<void> {
    const due = this.dueAt();
    const objectName = storedObjectName(this.store.sql);
    if (due === null || due > clock.now() || objectName === null) return;
    const { ref } = objectNameParts(objectName);
    const result = await checkCharges(this.store, this.outbox, this.portone, { ref, objectName }, clock.now());
    const retry = result.failure?.kind === "unavailable" ? clock.now() + CHARGES_RETRY_MS : null;
    if (result.failure !== null)
      log(result.failure.kind === "auth" ? "error" : "warn", "subscription charges not read", {
        object_name: objectName,
        failure: result.failure.kind,
        reason: result.failure.reason,
      });
    this.store.write((sql) =>
      retry === null ? meta.delete(sql, "charges_due_at") : meta.set(sql, "charges_due_at", retry),
    );
    this.#due = retry;
  }

  /** One check of the object `objectName` names; its result says what was recorded (as accepted). */
  async check(objectName: string, request: PortOneCheck): Promise<CheckResult> {
    const { kind, ref } = objectNameParts(objectName);
    const now = clock.now();
    if (request.kind === "listed") {
      const target = { kind: "payment", ref, objectName };
      const changed = await recordObserved(this.store, this.outbox, target, request.observed, now);
      return { changed, apiCalls: 0, failure: null };
    }
    if (request.kind === "charge") {
      const changed = await recordCharge(this.store, this.outbox, { ref, objectName }, request.charge, now);
      return { changed, apiCalls: 0, failure: null };
    }
    const result = await checkObject(this.store, this.outbox, this.portone, { kind, ref, objectName }, now);
    const reconciled = {
      at: new Date(now).toISOString(),
      changed: result.changed,
      failure: result.failure?.kind ?? null,
    };
    this.store.write((sql) => meta.set(sql, "reconciled", reconciled));
    return result;
  }
}
