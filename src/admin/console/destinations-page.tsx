// Where events go: each destination's host (never its URL's path or secret), types, limits, state,
// breaker and backlog, with pause and resume.
import type { FC } from "hono/jsx";
import type { DestinationView } from "../destinations";
import { ActionButton, Page, State, when } from "./layout";

export const DestinationsPage: FC<{ csrf: string; destinations: readonly DestinationView[]; flash?: string }> = ({
  csrf,
  destinations,
  flash,
}) => (
  <Page title="Destinations" current="/console/destinations" csrf={csrf}>
    {flash && <p class="flash">{flash}</p>}
    <div class="scroll">
      <table class="stack destinations">
        <thead>
          <tr>
            <th>Name</th>
            <th>Host</th>
            <th>Types</th>
            <th>Limits</th>
            <th>State</th>
            <th>Breaker</th>
            <th>Pending</th>
            <th>In flight</th>
            <th>Failures in a row</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {destinations.map((d) => (
            <tr>
              <td>{d.name}</td>
              <td>{d.host ?? "not configured"}</td>
              <td class="wrap">{d.types === null ? "all" : d.types.join(", ")}</td>
              <td>
                {d.max_per_second === null ? "" : `${d.max_per_second}/s `}
                {d.max_concurrency === null ? "" : `${d.max_concurrency} at once`}
              </td>
              <td>
                <State value={d.state === "paused" ? "paused" : "active"} />
              </td>
              <td>
                <State value={d.breaker === "closed" ? "closed" : d.breaker} />
                {d.opened_at ? ` since ${when(d.opened_at)}` : ""}
              </td>
              <td>{d.pending ?? "unknown"}</td>
              <td>{d.in_flight}</td>
              <td>{d.consecutive_failures}</td>
              <td>
                <ActionButton
                  action={`/console/destinations/${encodeURIComponent(d.name)}/${d.state === "paused" ? "resume" : "pause"}`}
                  csrf={csrf}
                  label={d.state === "paused" ? "Resume" : "Pause"}
                />
                <ActionButton
                  action={`/console/destinations/${encodeURIComponent(d.name)}/test`}
                  csrf={csrf}
                  label="Send a test event"
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <p class="note">
      Only each destination's host is shown. Resume also closes an open breaker. A test event (type{" "}
      <code>gateway.test</code>) goes to that destination only, signed with its secret, and is recorded like any event.
    </p>
  </Page>
);
