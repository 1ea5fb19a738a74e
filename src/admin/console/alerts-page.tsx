// Alerts for people: what needs an operator now (open), and what did lately (resolved), each with its
// severity as text, its message (what it means and what to do) and its counts and times. A problem
// with ALERTS itself (nobody can be notified) is shown above them.
import type { FC } from "hono/jsx";
import type { AlertView } from "../../alerts/notify";
import { Page, when } from "./layout";

export const AlertsTable: FC<{ alerts: readonly AlertView[] }> = ({ alerts }) => (
  <div class="scroll">
    <table class="stack alerts">
      <thead>
        <tr>
          <th>Severity</th>
          <th>Alert</th>
          <th>What it means</th>
          <th>Count</th>
          <th>Opened</th>
          <th>Last seen</th>
          <th>Resolved</th>
        </tr>
      </thead>
      <tbody>
        {alerts.map((a) => (
          <tr>
            <td>
              <span class={`sev ${a.severity}`}>{a.severity}</span>
            </td>
            <td class="wrap">
              <code>{a.key}</code>
            </td>
            <td class="wrap">{a.message}</td>
            <td>{a.count}</td>
            <td>{when(a.opened_at)}</td>
            <td>{when(a.last_at)}</td>
            <td>{a.state === "open" ? "open" : when(a.resolved_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/** The line shown when ALERTS cannot be used: alerts are kept, nobody is told. */
export const AlertsProblem: FC<{ problem: string | null }> = ({ problem }) =>
  problem === null ? null : (
    <p class="problem">ALERTS is invalid ({problem}): alerts are kept and shown here, but nobody is notified.</p>
  );

export const AlertsPage: FC<{
  csrf: string;
  open: readonly AlertView[];
  resolved: readonly AlertView[];
  problem: string | null;
}> = ({ csrf, open, resolved, problem }) => (
  <Page title="Alerts" current="/console/alerts" csrf={csrf}>
    <AlertsProblem problem={problem} />
    <h2>Open</h2>
    {open.length === 0 ? <p class="note">Nothing needs you now.</p> : <AlertsTable alerts={open} />}
    <h2>Resolved lately</h2>
    {resolved.length === 0 ? <p class="note">None.</p> : <AlertsTable alerts={resolved} />}
    <p class="note">
      Each open alert notifies every ALERTS target once, then at most once an hour while it stays open, and once when it
      resolves. docs/operations.md says what to do about each kind.
    </p>
  </Page>
);
