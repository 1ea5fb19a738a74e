// One object's timeline, from its Durable Object (the authority, not the read model): its events in
// order, each delivery attempt with its result, its refunds, and redeliver buttons (POST forms with
// the session's CSRF token).
import type { FC } from "hono/jsx";
import type { ObjectReport } from "../../ledger/inspect";
import { ActionButton, Page, State, when } from "./layout";

type Row = Record<string, SqlStorageValue>;
const text = (v: SqlStorageValue | undefined): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "bigint" ? v.toString() : "";

export const ObjectPage: FC<{ csrf: string; path: string; name: string; report: ObjectReport; flash?: string }> = ({
  csrf,
  path,
  name,
  report,
  flash,
}) => {
  const attemptsOf = (eventId: SqlStorageValue | undefined): Row[] =>
    report.attempts.filter((a) => a.event_id === eventId);
  const state = report.state.find((s) => `${text(s.provider)}:${text(s.kind)}:${text(s.object_ref)}` === name);
  return (
    <Page title={name} csrf={csrf}>
      {flash && <p class="flash">{flash}</p>}
      <p>
        Status <b>{text(state?.status) || "—"}</b> {state?.terminal === 1 ? "(finished)" : "(not finished)"}
      </p>
      <p class="note">
        {report.reconciliation === null
          ? "Never checked with PortOne's API."
          : `Last checked with PortOne's API ${when(report.reconciliation.at)}: ${
              report.reconciliation.failure === null
                ? `${report.reconciliation.changed} new status${report.reconciliation.changed === 1 ? "" : "es"}`
                : `no answer (${report.reconciliation.failure})`
            }.`}
        {report.purged_at === null ? "" : ` History purged ${when(report.purged_at)} after the retention period.`}
      </p>
      {report.events.some((e) => e.delivery === "dead") && (
        <p>
          <ActionButton action={`${path}/redeliver-dead`} csrf={csrf} label="Redeliver this object's dead letters" />
        </p>
      )}
      <h2>Timeline</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Received</th>
              <th>Event id</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Delivery</th>
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
                  <code>{text(e.event_id)}</code>
                </td>
                <td>{text(e.kind)}</td>
                <td>
                  {text(e.previous_status) ? `${text(e.previous_status)} → ` : ""}
                  {text(e.status)}
                  {e.source === "reconciliation" ? " (from PortOne's API)" : ""}
                </td>
                <td>
                  <State value={e.outcome === "stale" ? "stale" : text(e.delivery)} />
                </td>
                <td class="wrap">
                  <ol>
                    {attemptsOf(e.event_id).map((a) => (
                      <li>
                        {when(text(a.started_at))}: <State value={text(a.outcome)} />
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
                      label="Redeliver"
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.refunds.length > 0 && (
        <>
          <h2>Refunds</h2>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Refund id</th>
                  <th>Confirmation</th>
                  <th>Status from PortOne's API</th>
                  <th>Checks</th>
                  <th>Next check, or when it was settled</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                {report.refunds.map((r) => (
                  <tr>
                    <td>
                      <code>{text(r.refund_id)}</code>
                    </td>
                    <td>{text(r.state)}</td>
                    <td>{text(r.confirmed_status)}</td>
                    <td>{text(r.confirm_attempts)}</td>
                    <td>
                      {r.state === "confirming"
                        ? `next ${text(r.next_attempt_at)}`
                        : `${r.state === "unconfirmed" ? "gave up" : "settled"} ${text(r.updated_at)}`}
                    </td>
                    <td class="wrap">{text(r.last_error)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Page>
  );
};
