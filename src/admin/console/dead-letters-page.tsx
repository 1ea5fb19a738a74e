// The dead letters across objects (from the read model), with one button that re-queues them all,
// each only at the destinations where it is dead.
import type { FC } from "hono/jsx";
import type { EventItem } from "../../readmodel/queries";
import { ActionButton, Page } from "./layout";
import { EventsTable } from "./pages";

export const DeadLettersPage: FC<{ csrf: string; events: readonly EventItem[]; flash?: string }> = ({
  csrf,
  events,
  flash,
}) => (
  <Page title="Dead letters" current="/console/dead-letters" csrf={csrf}>
    {flash && <p class="flash">{flash}</p>}
    <p class="note">
      Events whose retry budget ran out. Redelivery re-sends them with their original webhook-id, each object's in its
      order.
    </p>
    {events.length > 0 && (
      <p>
        <ActionButton action="/console/dead-letters/redeliver" csrf={csrf} label="Redeliver all dead letters" />
      </p>
    )}
    <EventsTable events={events} />
  </Page>
);
