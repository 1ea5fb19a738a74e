// What a provider module proves about a request, and why it may refuse one.
// Rich reasons go to logs; the HTTP layer maps each reason to one public status and code.

import { err, type Err, type Result } from "../lib/result";

/**
 * How statuses of one kind of object move. Statuses are matched case-insensitively (PortOne's
 * casing is not documented for every value). A status in neither list is accepted as a
 * non-terminal step that does not change the rank: PortOne's lists are incomplete.
 */
export interface Lifecycle {
  /** Non-terminal statuses in lifecycle order (lower case). */
  readonly ranks: Readonly<Record<string, number>>;
  /** Terminal statuses (lower case): nothing moves the object after one of these. */
  readonly terminal: readonly string[];
}

/** Where a status sits in its lifecycle, as the ledger's state machine needs it (ledger/decide.ts
 *  knows no provider; only the refund confirmation, ledger/confirm.ts, is PortOne's). */
export interface StatusPosition {
  /** Rank among known statuses; null for a status the provider's lists do not name. */
  readonly rank: number | null;
  readonly terminal: boolean;
}

/** A webhook proven genuine, with what the ledger needs to serialize and deduplicate it. */
/** What names an event wherever it goes (verified, recorded, forwarded): its object and status, and
 *  its id. Each stage's shape extends this one with what that stage adds. */
export interface EventRef {
  readonly provider: string;
  readonly kind: string;
  readonly objectRef: string;
  readonly status: string;
  /** Stable id of this event, derived only from what is proven: equal for a redelivery (or a
   *  replay with unsigned fields added), different for distinct events. The webhook-id. */
  readonly eventId: string;
  /** The forwarded type, where the scheme names it apart from the status (names.ts, typeOf); absent or
   *  null: provider.kind.status. */
  readonly type?: string | null;
}

/** An event a signature proved, as the edge hands it to its object's ledger. */
export interface VerifiedEvent extends EventRef {
  readonly position: StatusPosition;
  /** What the signature proves, as parsed (never the raw bytes, spec §9.6). */
  readonly data: Readonly<Record<string, unknown>>;
  /** The rest of the body, which no signature covers; null when there is none. */
  readonly unverified: Readonly<Record<string, unknown>> | null;
  /** The provider's unsigned id of this delivery, for the logs only (never the identity). */
  readonly deliveryId?: string;
  /** The WEBHOOK_SOURCES name it arrived on (absent on PortOne's own routes): the object it moves is
   *  this source's, so a sandbox and a live source of one scheme never share an object. */
  readonly sourceName?: string;
}

export type RejectReason =
  | "invalid_json"
  | "not_an_object"
  | "too_deep"
  | "duplicate_field"
  | "case_variant_field"
  | "invalid_field_type"
  | "missing_signature"
  | "missing_timestamp"
  | "stale_timestamp"
  | "bad_signature"
  | "missing_object_ref"
  | "missing_status";

export interface Rejection {
  readonly reason: RejectReason;
  /** For logs only: names fields and types, never values of secrets. */
  readonly detail: string;
}

/** The one way a provider step refuses: the reason (mapped to a public error) and a detail for logs. */
export const reject = (reason: RejectReason, detail: string): Err<Rejection> => err({ reason, detail });

export type VerifyResult = Result<VerifiedEvent, Rejection>;

export function positionOf(lifecycle: Lifecycle, status: string): StatusPosition {
  const key = status.toLowerCase();
  if (lifecycle.terminal.includes(key)) return { rank: null, terminal: true };
  // hasOwn: a status such as "constructor" must not find Object.prototype's members.
  const rank = Object.hasOwn(lifecycle.ranks, key) ? lifecycle.ranks[key] : undefined;
  return { rank: rank ?? null, terminal: false };
}

/** Whether a status is one of the lifecycle's own (case aside): a provider's API answer with any
 *  other status ("Success " with a space, a status of another kind) is unknown, never an event. */
export function inLifecycle(lifecycle: Lifecycle, status: string): boolean {
  const key = status.toLowerCase();
  return lifecycle.terminal.includes(key) || Object.hasOwn(lifecycle.ranks, key);
}
