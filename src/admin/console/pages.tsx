// The console's pages, server-rendered. Nothing secret or personal is shown: ids, types, statuses,
// delivery states, times, counts and errors; never a payload, its unverified fields, or a token.
import type { AlertView } from "../../alerts/notify";
import { AlertsProblem, AlertsTable } from "./alerts-page";
import type { FC } from "hono/jsx";
import type { EventItem, Page as EventPage, Stats } from "../../readmodel/queries";
import type { HintCounts, HourCount, Latency } from "../../readmodel/overview";
import { HintsPanel } from "./hints";
import type { PassSummary } from "../../reconcile/store";
import { objectHref, Page, State, when } from "./layout";

export const LoginPage: FC<{ problem?: string }> = ({ problem }) => (
  <Page title="Log in">
    {problem && <p class="problem">{problem}</p>}
    <form method="post" action="/console/login">
      <p>
        <label>
          Admin token <input type="password" name="token" autocomplete="current-password" required autofocus />
        </label>{" "}
        <button type="submit">Log in</button>
      </p>
      <p class="note">The token is the gateway's ADMIN_TOKEN. The session lasts 8 hours.</p>
    </form>
  </Page>
);

const Counts: FC<{ label: string; stats: Stats }> = ({ label, stats }) => (
  <>
    <h2>{label}</h2>
    <div class="cards">
      {(["accepted", "stale", "delivered", "pending", "dead"] as const).map((k) => (
        <div class="card">
          <b>{stats[k]}</b>
          {k}
        </div>
      ))}
    </div>
  </>
);

const Chart: FC<{ hours: readonly HourCount[] }> = ({ hours }) => {
  const max = Math.max(1, ...hours.map((h) => h.accepted + h.stale));
  const [w, h, bar] = [24 * 20, 120, 14];
  return (
    <svg
      viewBox={`0 0 ${w} ${h + 20}`}
      width={w}
      height={h + 20}
      role="img"
      aria-label="Events per hour, last 24 hours"
    >
      {hours.map((hour, i) => {
        const a = (hour.accepted / max) * h;
        const s = (hour.stale / max) * h;
        return (
          <g>
            <title>{`${new Date(hour.hour).toISOString().slice(11, 13)}:00 UTC: ${hour.accepted} accepted, ${hour.stale} stale`}</title>
            <rect x={i * 20 + 3} y={h - a - s} width={bar} height={s} fill="#afb8c1" />
            <rect x={i * 20 + 3} y={h - a} width={bar} height={a} fill="#2f6fde" />
          </g>
        );
      })}
      <text x="2" y={h + 15} font-size="11" fill="#57606a">
        24 h ago
      </text>
      <text x={w - 40} y={h + 15} font-size="11" fill="#57606a">
        now
      </text>
    </svg>
  );
};

const Reconciliation: FC<{ passes: { last: PassSummary | null; problem: PassSummary | null } }> = ({ passes }) => (
  <>
    <h2>Reconciliation with PortOne's API</h2>
    {passes.problem && (
      <p class="problem">
        Configuration problem ({when(new Date(passes.problem.finished_at).toISOString())}): {passes.problem.error}.
        Check PORTONE_KEY and PORTONE_SECRET_KEY.
      </p>
    )}
    {passes.last?.error && !passes.problem && <p class="note">The last pass stopped early: {passes.last.error}.</p>}
    {passes.last === null ? (
      <p class="note">
        No pass yet. Deployed, one runs every 5 minutes; under <code>npm run dev</code> no cron fires by itself: run one
        with <code>POST /admin/reconcile</code> or{" "}
        <code>curl "http://127.0.0.1:8787/__scheduled?cron=*/5+*+*+*+*"</code>.
      </p>
    ) : (
      <div class="cards">
        <div class="card">
          <b>{when(new Date(passes.last.finished_at).toISOString())}</b>last pass ({passes.last.trigger})
        </div>
        <div class="card">
          <b>{passes.last.checked}</b>objects checked
        </div>
        <div class="card">
          <b>{passes.last.changed}</b>statuses found
        </div>
        <div class="card">
          <b>{passes.last.unanswered}</b>checks without an answer (unknown reference, API down or unreadable)
        </div>
        <div class="card">
          <b>{passes.last.api_calls}</b>API calls
        </div>
        <div class="card">
          <b>{passes.last.purged}</b>histories purged
        </div>
      </div>
    )}
  </>
);

/** A duration for people: 840 ms, 3.2 s, 2 min 53 s, 1 h 5 min. */
export function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const OverviewPage: FC<{
  csrf: string;
  day: Stats;
  week: Stats;
  latency: Latency;
  hours: readonly HourCount[];
  passes: { last: PassSummary | null; problem: PassSummary | null };
  alerts: readonly AlertView[];
  alertsProblem: string | null;
  hints: HintCounts;
}> = ({ csrf, day, week, latency, hours, passes, alerts, alertsProblem, hints }) => (
  <Page title="Overview" current="/console" csrf={csrf}>
    {passes.problem && (
      <p class="problem">PortOne's API refused the gateway's credentials: see Reconciliation below.</p>
    )}
    <AlertsProblem problem={alertsProblem} />
    <h2>Open alerts</h2>
    {alerts.length === 0 ? (
      <p class="note">Nothing needs you now.</p>
    ) : (
      <>
        <AlertsTable alerts={alerts} />
        <p>
          <a href="/console/alerts">All alerts</a>
        </p>
      </>
    )}
    <Counts label="Last 24 hours" stats={day} />
    <Counts label="Last 7 days" stats={week} />
    <h2>Delivery</h2>
    <div class="cards">
      <div class="card">
        <b>{day.oldest_pending_at ? when(day.oldest_pending_at) : "none"}</b>oldest pending event
      </div>
      <div class="card">
        <b>{duration(latency.p50_ms)}</b>latency p50 (24 h)
      </div>
      <div class="card">
        <b>{duration(latency.p95_ms)}</b>latency p95 (24 h)
      </div>
    </div>
    <h2>Events per hour</h2>
    <Chart hours={hours} />
    <p class="note">
      Blue: accepted; grey: stale. Counts come from the read model, which trails the objects by seconds.
    </p>
    <HintsPanel hints={hints} />
    <Reconciliation passes={passes} />
  </Page>
);

export const EventsTable: FC<{ events: readonly EventItem[] }> = ({ events }) => (
  <div class="scroll">
    <table class="stack events">
      <thead>
        <tr>
          <th>Type</th>
          <th>Status</th>
          <th>Delivery</th>
          <th>Received</th>
          <th>Attempts</th>
          <th>Object</th>
          <th>Merchant order</th>
          <th>Event id</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr>
            <td>{e.type}</td>
            <td>{e.status}</td>
            <td>
              <State value={e.outcome === "stale" ? "stale" : e.delivery} />
            </td>
            <td>{when(e.received_at)}</td>
            <td>{e.attempts}</td>
            <td>
              <a href={objectHref(e.object)}>{e.object_ref}</a>
            </td>
            <td>{e.merchant_order_ref ?? ""}</td>
            <td>
              <code>{e.event_id}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    {events.length === 0 && <p class="note">No event matches.</p>}
  </div>
);

export const EventsPage: FC<{ csrf: string; query: Record<string, string>; page: EventPage }> = ({
  csrf,
  query,
  page,
}) => {
  const next = page.next_cursor === null ? null : new URLSearchParams({ ...query, cursor: page.next_cursor });
  return (
    <Page title="Events" current="/console/events" csrf={csrf}>
      <form class="search" method="get" action="/console/events">
        <input type="search" name="q" value={query.q ?? ""} placeholder="object ref, merchant_order_ref or event id" />
        <select name="delivery">
          {["", "pending", "delivered", "dead"].map((d) => (
            <option value={d} selected={(query.delivery ?? "") === d}>
              {d === "" ? "any delivery" : d}
            </option>
          ))}
        </select>
        <input name="type" value={query.type ?? ""} placeholder="type, e.g. portone.payment.success" />
        <input name="status" value={query.status ?? ""} placeholder="status, e.g. Success" />
        <label>
          since <input type="date" name="since" value={query.since ?? ""} />
        </label>
        <label>
          until <input type="date" name="until" value={query.until ?? ""} />
        </label>
        <button type="submit">Search</button>
      </form>
      <EventsTable events={page.events} />
      {next && (
        <p>
          <a href={`/console/events?${next.toString()}`}>Older events →</a>
        </p>
      )}
    </Page>
  );
};
