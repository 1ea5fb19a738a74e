// One object's timeline, from its Durable Object (the authority, not the read model): its events in
// order, each delivery attempt with its result, its hints being confirmed with a provider's API (a
// refund's, a Midtrans or Payment Options notification's), and redeliver buttons (POST forms with the
// session's CSRF token).
import type { FC } from "hono/jsx";
import type { ObjectReport } from "../../ledger/inspect";
import { objectNameParts } from "../../providers/names";
import { ConfirmationsTable } from "./hints";
import { ActionButton, objectHref, Page, State, when } from "./layout";

type Row = Record<string, SqlStorageValue>;
const text = (v: SqlStorageValue | undefined): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? v.toString() : "";

const FAILURES: Record<string, string> = {
  not_found: "PortOne does not know this reference (4096 / 4001)",
  unavailable: "PortOne's API was unavailable",
  unreadable: "PortOne's answer could not be used",
  auth: "PortOne refused the credentials",
};

/** The deliveries of the object's events, in words: how many are delivered, pending (and when next), dead. */
function deliverySummary(report: ObjectReport): string {
  const count = (state: string) => report.events.filter((e) => e.delivery === state).length;
  const [delivered, pending, dead] = [count("delivered"), count("pending"), count("dead")];
  const next = report.events
    .map((e) => (e.delivery === "pending" ? text(e.next_attempt_at) : ""))
    .filter((t) => t !== "")
    .sort()[0];
  const parts = [`${delivered} delivered`];
  if (pending > 0) parts.push(`${pending} pending${next ? `, next try ${when(next)}` : ""}`);
  if (dead > 0) parts.push(`${dead} dead`);
  return parts.join(", ");
}

/** The destinations whose filter the event did not match, as a list for people. */
function filteredAt(event: Row): string {
  try {
    return (JSON.parse(text(event.filtered_at)) as string[]).join(", ");
  } catch {
    return "";
  }
}

/** When PortOne's API was last asked about a PortOne object (reconciliation), and what it said. */
function reconciliationNote(report: ObjectReport): string {
  const checked = report.reconciliation;
  if (checked === null) return "Never checked with PortOne's API.";
  const said =
    checked.failure === null
      ? `${checked.changed} new status${checked.changed === 1 ? "" : "es"}`
      : `no answer (${FAILURES[checked.failure] ?? checked.failure})`;
  return `Last checked with PortOne's API ${when(checked.at)}: ${said}.`;
}

/** An event's proven data: PortOne's fields (signed, or its API's answer: amounts, references, status,
 *  never personal data) as values; a generic source's body, which may hold anything, by its keys only.
 *  Unverified fields by their names only. */
const EventData: FC<{ event: Row }> = ({ event }) => {
  const raw = text(event.data);
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
      data = parsed as Record<string, unknown>;
  } catch {
    data = {};
  }
  const unverified = text(event.unverified_keys);
  const shown =
    event.provider === "portone"
      ? Object.entries(data)
          .filter(([, v]) => v === null || typeof v !== "object")
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join("\n")
      : `fields: ${Object.keys(data).join(", ")}`;
  return (
    <>
      <pre class="data">{shown}</pre>
      {unverified !== "" && <span class="note">unverified fields (not shown): {unverified}</span>}
    </>
  );
};

/** The object's events in order, each with its delivery, its proven data, its attempts and a redeliver button. */
const Timeline: FC<{ report: ObjectReport; csrf: string; path: string }> = ({ report, csrf, path }) => {
  const attemptsOf = (eventId: SqlStorageValue | undefined): Row[] =>
    report.attempts.filter((a) => a.event_id === eventId);
  return (
    <>
      <h2>Timeline</h2>
      <p class="note">
        Redeliver on a delivered or dead event sends it again with its original webhook-id; on a pending one it means
        "try now" (its retry budget starts over). Data is what was proven (signed, or PortOne's API answer); fields no
        signature covers are named, never shown.
      </p>
      <div class="scroll">
        <table class="stack timeline">
          <thead>
            <tr>
              <th>#</th>
              <th>Received</th>
              <th>Event</th>
              <th>Status</th>
              <th>Delivery</th>
              <th>Data</th>
              <th>Attempts (result, HTTP status, error)</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {report.events.map((e) => (
              <tr>
                <td>{text(e.seq)}</td>
                <td>{when(text(e.received_at))}</td>
                <td>
                  <code>{text(e.event_id)}</code> {text(e.kind)}
                </td>
                <td>
                  {text(e.previous_status) ? `${text(e.previous_status)} → ` : ""}
                  {text(e.status)}
                  {e.source === "reconciliation" ? " (from PortOne's API)" : ""}
                </td>
                <td>
                  <State value={e.outcome === "stale" ? "stale" : text(e.delivery)} />
                  {e.delivery === "pending" && e.next_attempt_at ? ` · next try ${when(text(e.next_attempt_at))}` : ""}
                  {e.filtered_at && e.delivery !== "filtered" ? ` · filtered at ${filteredAt(e)}` : ""}
                  {e.delivery === "filtered" ? ` at ${filteredAt(e)}` : ""}
                </td>
                <td>
                  <EventData event={e} />
                </td>
                <td class="wrap">
                  <ol>
                    {attemptsOf(e.event_id).map((a) => (
                      <li>
                        {when(text(a.started_at))} {text(a.destination)}: <State value={text(a.outcome)} />
                        {a.http_status !== null ? ` HTTP ${text(a.http_status)}` : ""}
                        {a.error ? `: ${text(a.error)}` : ""}
                      </li>
                    ))}
                  </ol>
                </td>
                <td>
                  {e.outcome === "accepted" && (
                    <ActionButton
                      action={`${path}/events/${encodeURIComponent(text(e.event_id))}/redeliver`}
                      csrf={csrf}
                      label={e.delivery === "pending" ? "Try now" : "Redeliver"}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
};

export const ObjectPage: FC<{ csrf: string; objectName: string; report: ObjectReport; flash?: string }> = ({
  csrf,
  objectName,
  report,
  flash,
}) => {
  // The object's own state (a payment's refunds have theirs beside it).
  const { provider, kind, ref } = objectNameParts(objectName);
  const state = report.state.find((s) => s.kind === kind && s.object_ref === ref);
  const path = objectHref(objectName);
  return (
    <Page title={objectName} csrf={csrf}>
      {flash && <p class="flash">{flash}</p>}
      <p>
        Payment object's status <b>{text(state?.status) || "—"}</b>{" "}
        {state?.terminal === 1 ? "(final: nothing moves it any more)" : "(not final yet)"}. Delivery:{" "}
        <b>{deliverySummary(report)}</b>.
      </p>
      <p class="note">
        {provider === "portone" && reconciliationNote(report)}
        {report.purged_at === null ? "" : ` History purged ${when(report.purged_at)} after the retention period.`}
      </p>
      {report.events.some((e) => e.delivery === "dead") && (
        <p>
          <ActionButton action={`${path}/redeliver-dead`} csrf={csrf} label="Redeliver this object's dead letters" />
        </p>
      )}
      {report.events.length > 0 ? (
        <Timeline report={report} csrf={csrf} path={path} />
      ) : (
        <p class="note">No event yet: nothing has been forwarded for this object.</p>
      )}
      <ConfirmationsTable report={report} />
    </Page>
  );
};
