// The audit log for people: every operator action, newest first (GET /admin/audit's entries).
import type { FC } from "hono/jsx";
import type { AuditView } from "../../readmodel/audit";
import { Page, when } from "./layout";

export const AuditPage: FC<{ csrf: string; entries: readonly AuditView[]; next: string | null }> = ({
  csrf,
  entries,
  next,
}) => (
  <Page title="Audit log" current="/console/audit" csrf={csrf}>
    <p class="note">
      Every operator action, through the API or this console: who (the admin token's holder, the Cloudflare Access
      e-mail, or anonymous for a failed login), what, when, and the result. Kept RETENTION_DAYS.
    </p>
    {entries.length === 0 ? (
      <p class="note">No operator action yet.</p>
    ) : (
      <div class="scroll">
        <table class="stack audit">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Result</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td class="wrap">{e.target ?? ""}</td>
                <td>
                  <span class={`state ${e.result === "ok" ? "delivered" : "failed"}`}>{e.result}</span>
                </td>
                <td class="wrap">
                  <code>{e.details === null ? "" : JSON.stringify(e.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
    {next !== null && (
      <p>
        <a href={`/console/audit?cursor=${encodeURIComponent(next)}`}>Older entries</a>
      </p>
    )}
  </Page>
);
