// Where an accepted event goes: the destinations whose `types` take its type and whose `filter`
// (config/filter.ts) its proven fields match; those whose filter it does not match (its state there is
// `filtered`); and whether one it goes to wants the provider's request (`original`). Decided once, when
// the event is recorded (outbox.ts stores the answer on the event's row).

import type { Config } from "../config";
import { takes } from "../config/destinations";
import { filterMatches, type FilterKey } from "../config/filter";
import { describeConfigError } from "../lib/config-error";

/** An accepted event's proven fields, as its destinations' types and filters see them. */
export interface Routed {
  readonly type: string;
  readonly provider: string;
  readonly kind: string;
  readonly objectRef: string;
  readonly status: string;
  readonly source: string;
  /** What is proven, JSON (parsed only for a filter that names `data`). */
  readonly data: string;
}

/** Where an accepted event goes: the destinations it is queued for, those whose filter it did not
 *  match (its state there is `filtered`), and whether one it goes to wants the provider's request. */
export interface Routing {
  readonly destinations: readonly string[];
  readonly filtered: readonly string[];
  readonly original: boolean;
}

/** Where an event goes; throws when that cannot be known (a configuration error), so nothing is
 *  recorded without its queues. */
export type Route = (event: Routed) => Routing;

/** The destinations that take an event: its type among their `types`, its proven fields matching their
 *  `filter`. With DESTINATIONS invalid nothing can be routed: recording throws (the provider gets a 5xx
 *  and retries; an alarm run retries) instead of losing a destination. */
export function routeOf(config: Config): Route {
  return (event) => {
    if (!config.destinations.ok) throw new Error(describeConfigError(config.destinations.error));
    let data: unknown;
    const fields = {
      type: event.type,
      provider: event.provider,
      kind: event.kind,
      object_ref: event.objectRef,
      status: event.status,
      source: event.source,
    };
    const field = (key: FilterKey): unknown => (key === "data" ? (data ??= JSON.parse(event.data)) : fields[key]);
    const routing = { destinations: [] as string[], filtered: [] as string[], original: false };
    for (const d of config.destinations.value) {
      if (!takes(d, event.type)) continue;
      if (d.filter !== null && !filterMatches(d.filter, field)) {
        routing.filtered.push(d.name);
        continue;
      }
      routing.destinations.push(d.name);
      routing.original ||= d.original;
    }
    return routing;
  };
}
