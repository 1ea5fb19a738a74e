// The hints being confirmed with a provider's API (PortOne's refund webhooks, Midtrans's and Payment
// Options' notifications), as the console shows them: counted over every object on the overview (from
// the read model), and each object's on its page (from its Durable Object). A hint is never forwarded:
// only what the provider's API answers is.
import type { FC } from "hono/jsx";
import type { ObjectReport } from "../../ledger/inspect";
import { CONFIRMER_API, type ConfirmerName } from "../../providers/proven";
import type { HintCounts } from "../../readmodel/overview";
import { objectHref, State, when } from "./layout";

type Row = Record<string, SqlStorageValue>;
const text = (v: SqlStorageValue | undefined): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? v.toString() : "";
const apiOf = (confirmer: string): string => CONFIRMER_API[confirmer as ConfirmerName] ?? confirmer;

/** The overview's panel: how many hints wait for their provider's API, and where. */
export const HintsPanel: FC<{ hints: HintCounts }> = ({ hints }) => (
  <>
    <h2>Hints awaiting a provider's API</h2>
    <div class="cards">
      <div class="card">
        <b>{hints.confirming}</b>being confirmed
      </div>
      <div class="card">
        <b>{hints.unconfirmed}</b>unconfirmed (a day without an answer: look)
      </div>
    </div>
    {hints.objects.length === 0 ? (
      <p class="note">
        None. Refund webhooks and Midtrans's and Payment Options' notifications are confirmed with the provider's API
        before anything is forwarded; one that waits shows here.
      </p>
    ) : (
      <ul class="hint-objects">
        {hints.objects.map((o) => (
          <li>
            <a href={objectHref(o.object)}>{o.object_ref}</a> ({o.object}): {o.confirming} being confirmed
            {o.unconfirmed > 0 ? `, ${o.unconfirmed} unconfirmed` : ""} · last{" "}
            {when(new Date(o.last_seen_at).toISOString())}
          </li>
        ))}
      </ul>
    )}
  </>
);

/** When a confirmation is next asked, or when it settled or was given up. */
function progress(r: Row): string {
  if (r.state === "confirming") return `next ${when(text(r.next_attempt_at))}`;
  return `${r.state === "unconfirmed" ? "gave up" : "settled"} ${when(text(r.updated_at))}`;
}

/** An object's hints, each subject with where its confirmation stands. */
export const ConfirmationsTable: FC<{ report: ObjectReport }> = ({ report }) =>
  report.confirmations.length === 0 ? null : (
    <>
      <h2>Hints confirmed with the provider's API</h2>
      <p class="note">
        A hint is never forwarded: only what the provider's API answers is (source "api"). An unconfirmed one was asked
        about for at least a day without an answer that settles it; a new hint for it starts over.
      </p>
      <div class="scroll">
        <table class="stack confirmations">
          <thead>
            <tr>
              <th>Subject</th>
              <th>Asked of</th>
              <th>Hint said</th>
              <th>Confirmation</th>
              <th>Status from the API</th>
              <th>Checks</th>
              <th>Next check, or when it settled</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {report.confirmations.map((r) => (
              <tr>
                <td>
                  <code>{text(r.subject)}</code>
                </td>
                <td>{apiOf(text(r.confirmer))}</td>
                <td>{text(r.claimed_status)}</td>
                <td>
                  <State value={text(r.state)} />
                </td>
                <td>{text(r.confirmed_status)}</td>
                <td>{text(r.confirm_attempts)}</td>
                <td>{progress(r)}</td>
                <td class="wrap">{text(r.last_error)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
