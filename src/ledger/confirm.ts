// The alarm's confirmations: each hint's subject asked of its provider's API (confirmers.ts: PortOne's
// refunds, Midtrans's and Payment Options' transactions), one mechanism for all. Only what the API
// answers is recorded and forwarded, each status once, in the hint's object (a refund after its payment's
// own events). A subject stays being confirmed while the API does not know it yet, or answers a status
// that does not settle it (not final, or not what the hint claimed: the provider does not send the
// notification again, and the API may lag it), asked again within two minutes, then with backoff for
// about a day and a half; then the API's final word stands (confirmed), or, when it never settled, the
// hint is given up as unconfirmed (visible on its object and counted on the console; the same hint sent
// again starts over). When PortOne does not know a refund's payment at all, every hint of it is given up
// at once, and new hints wait an hour before the API is asked again. While the API is unavailable,
// unreadable or refuses the credentials, the confirmation is retried on the forwarding schedule.

import { clock } from "../lib/clock";
import { log } from "../lib/log";
import { retryDelayMs } from "../lib/retry";
import { CONFIRMER_API } from "../providers/proven";
import type { Answer, Confirmers } from "./confirmers";
import type { Confirmations, DueConfirmation } from "./confirmations";
import { meta } from "./meta";
import type { Outbox } from "./outbox";
import { recordEvent } from "./record";
import type { LedgerStore } from "./store";

/** Confirmations per alarm run at most; the rest wait for the next run. */
const MAX_CONFIRMATIONS_PER_RUN = 10;
/** Delays after each answer that does not settle the subject (not known yet, not final, or not what the
 *  hint claimed), in seconds (31.8 hours in all, past a day): then it is settled with what the API last said. */
export const UNSETTLED_RETRY_SECONDS: readonly number[] = [
  60,
  120,
  300,
  600,
  1800,
  3600,
  2 * 3600,
  4 * 3600,
  8 * 3600,
  8 * 3600,
  8 * 3600,
];

export interface ConfirmRun {
  readonly store: LedgerStore;
  readonly outbox: Outbox;
  readonly confirmations: Confirmations;
  readonly confirmers: Confirmers;
}

export async function confirmDue(run: ConfirmRun): Promise<void> {
  const { confirmations } = run;
  for (const due of confirmations.due(clock.now(), MAX_CONFIRMATIONS_PER_RUN)) {
    confirmations.countAttempt(due.subject, clock.now());
    const answer = await run.confirmers.ask(due);
    const ids = { confirmer: due.confirmer, subject: due.subject, parent_ref: due.parentRef };
    if (answer.kind === "found") recordAnswer(run, due, answer);
    else if (answer.kind === "unknown_parent") {
      // No refund of a payment PortOne does not know will ever be listed: stop asking about any of them.
      run.store.write((sql) => {
        confirmations.giveUpAll(clock.now(), answer.reason);
        meta.set(sql, "payment_unknown_at", clock.now());
      });
      log("warn", "hint names a payment the provider does not know; not forwarded", ids);
      return;
    } else if (answer.kind === "not_settled") askAgainLater(confirmations, due, answer.reason, null);
    else {
      const delay = retryDelayMs(due.confirmAttempts + 1, Math.random());
      if (delay === null) {
        confirmations.settle(due.subject, "unconfirmed", clock.now(), { error: `gave up: ${answer.reason}` });
        log("error", "confirmation abandoned after the retry budget", { ...ids, error: answer.reason });
      } else {
        confirmations.retryAt(due.subject, clock.now() + delay, clock.now(), answer.reason);
        // Refused credentials are a configuration problem: loud, and retried once it is fixed.
        const level = answer.failure === "auth" ? "error" : "warn";
        log(level, `provider API ${answer.failure}; confirmation retried`, { ...ids, error: answer.reason });
      }
    }
  }
}

/** The API's answer not settling the subject yet: asked again on the schedule, then settled with what
 *  the API last said (`status`: a final status stands as confirmed; else unconfirmed). */
function askAgainLater(
  confirmations: Confirmations,
  due: DueConfirmation,
  reason: string,
  last: { status: string; final: boolean } | null,
): void {
  const ids = { confirmer: due.confirmer, subject: due.subject, parent_ref: due.parentRef };
  const delay = UNSETTLED_RETRY_SECONDS[due.confirmAttempts];
  if (delay !== undefined) {
    confirmations.retryAt(due.subject, clock.now() + delay * 1000, clock.now(), reason);
    log("info", "not settled by the provider's API yet; asked again later", { ...ids, reason });
  } else if (last !== null && (last.final || (due.claimed !== null && same(last.status, due.claimed)))) {
    const { status } = last;
    confirmations.settle(due.subject, "confirmed", clock.now(), { status, error: `after a day: ${reason}` });
    log("warn", "settled with the provider API's last answer after a day", { ...ids, status, reason });
  } else {
    confirmations.settle(due.subject, "unconfirmed", clock.now(), { error: `gave up after a day: ${reason}` });
    log("warn", "hint never confirmed by the provider's API; given up, not forwarded", { ...ids, reason });
  }
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Records the status the API gives for the subject, once per status, and settles the subject when
 *  that status is final and agrees with the hint (or the hint claimed a status the API has moved past). */
function recordAnswer(run: ConfirmRun, due: DueConfirmation, answer: Extract<Answer, { kind: "found" }>): void {
  const { status, final, record } = answer;
  const claimed = due.claimed;
  const settled = final && (claimed === null || same(claimed, status) || !run.confirmers.isFinal(due, claimed));
  const outcome = run.store.write((sql) => {
    if (settled) run.confirmations.settle(due.subject, "confirmed", clock.now(), { status });
    else {
      const reason = `${CONFIRMER_API[due.confirmer]} says ${status}; the hint said ${claimed ?? "nothing"}`;
      askAgainLater(run.confirmations, due, reason, { status, final });
    }
    if (run.confirmers.recorded(sql, due, status)) return null;
    return recordEvent(run.store, run.outbox, record, null);
  });
  if (outcome !== null)
    log("info", `confirmed by the provider's API: ${outcome.result}`, {
      confirmer: due.confirmer,
      subject: due.subject,
      event_id: outcome.eventId,
      status,
    });
}
