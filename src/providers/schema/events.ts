// The one source of the forwarded event's shape: JSON Schema (draft 2020-12) built with TypeBox, from
// which both the code's TypeScript types (Static<…>) and the published schemas/events.schema.json
// (scripts/schemas.ts; a test checks the committed file is current) come. One $def per type the
// gateway can forward: PortOne's signed kinds, its refunds, what reconciliation learns, subscription
// charges, the destinations' test event, every provider scheme and the generic sources.
// The defs exclude each other (provider, kind and source), so the schema's `oneOf` picks exactly one.
// No `format` keywords: the schema compiles to a standalone validator that runs inside workerd.
// Its imports name their files (`.ts`): vitest.config.ts loads this module through Vite's config loader.

import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { SIGNED_KINDS } from "../portone/kinds.ts";
import { SCHEME_NAMES, type SchemeName } from "../names.ts";
import { FPX_SIGNED_FIELDS } from "../schemes/fpx-fields.ts";

const ISO_TIME = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$";
const text = Type.String({ pattern: "^.+$" });
const anyObject = Type.Object({}, { additionalProperties: true });

/** The provider's request as the gateway received it, for a destination with "original": true. */
const ORIGINAL = Type.Object(
  {
    headers: Type.Record(Type.String({ pattern: "^[a-z0-9-]+$" }), Type.String(), {
      description: "content-type and the headers the source's scheme verifies (lower-case names); never a secret.",
    }),
    body: Type.String({
      contentEncoding: "base64",
      pattern: "^[A-Za-z0-9+/]*={0,2}$",
      description: "The raw body, byte for byte, in base64.",
    }),
  },
  {
    additionalProperties: false,
    description: "The provider's request as received (destinations with original: true).",
  },
);

/** What every forwarded event carries, whatever its type. */
function envelope<P extends TSchema, K extends TSchema, S extends TSchema, D extends TSchema>(fields: {
  provider: P;
  kind: K;
  type: string;
  source: S;
  data: D;
  unverified?: boolean;
  /** Whether it arrived on a WEBHOOK_SOURCES source (source_name present), or never can (absent). */
  sourceName?: boolean;
  /** Whether it may carry the provider's request (`original`: a webhook's own event, never an API's answer). */
  original?: boolean;
  description: string;
}) {
  const common = {
    id: Type.String({
      pattern: "^evt_[0-9a-f]{32}$",
      description: "Same as the webhook-id header; stable across retries.",
    }),
    type: Type.String({ pattern: fields.type }),
    provider: fields.provider,
    kind: fields.kind,
    object_ref: text,
    status: text,
    previous_status: Type.Union([text, Type.Null()]),
    received_at: Type.String({ pattern: ISO_TIME }),
    source: fields.source,
    source_name:
      fields.sourceName === true
        ? Type.String({
            pattern: "^[a-z0-9][a-z0-9_-]*$",
            description: "The WEBHOOK_SOURCES name the event arrived on: a sandbox and a live source differ here.",
          })
        : Type.Optional(Type.Never()),
    data: fields.data,
    original: fields.original === true ? Type.Optional(ORIGINAL) : Type.Optional(Type.Never()),
  };
  const options = { additionalProperties: false, description: fields.description };
  // Where nothing can be unverified (the whole body is signed, or the data is the API's), the
  // property is not allowed at all.
  return fields.unverified === false
    ? Type.Object({ ...common, unverified: Type.Optional(Type.Never()) }, options)
    : Type.Object({ ...common, unverified: Type.Optional(anyObject) }, options);
}

const webhook = Type.Literal("webhook");
const reconciliation = Type.Literal("reconciliation");
const portone = Type.Literal("portone");

/** PortOne's signed fields under the JSON names they may have in the body (kinds.ts). */
function portOneSigned(slug: string) {
  const kind = SIGNED_KINDS.get(slug);
  if (kind === undefined) throw new Error(`no PortOne kind ${slug}`);
  const properties: Record<string, TSchema> = {};
  for (const field of kind.signed) {
    for (const name of field.from) {
      // Optional: a field may come under either of its names (countryCode or country_code).
      properties[name] = Type.Optional(
        field.type === "amount"
          ? Type.Union([Type.Number(), Type.String(), Type.Null()])
          : Type.Union([Type.String(), Type.Null()]),
      );
    }
  }
  return Type.Object(properties, {
    additionalProperties: false,
    description: "Only the fields PortOne's signature covers.",
  });
}

function portOneKind(slug: string) {
  const kind = SIGNED_KINDS.get(slug)?.kind ?? slug;
  return envelope({
    provider: portone,
    kind: Type.Literal(kind),
    type: `^portone\\.${kind}\\.[a-z0-9_ -]+$`,
    source: webhook,
    data: portOneSigned(slug),
    original: true,
    description: `A PortOne ${kind} webhook whose signature was verified.`,
  });
}

const hasStatus = Type.Object({ status: text }, { additionalProperties: true });
const objectWith = (properties: Record<string, TSchema>) => Type.Object(properties, { additionalProperties: true });

/** What each provider scheme's `data` holds at least: the fields the gateway read from it. */
const SCHEME_DATA: Readonly<Record<SchemeName, TSchema>> = {
  stripe: objectWith({ id: text, type: text, data: objectWith({ object: objectWith({ id: text }) }) }),
  razorpay: objectWith({ event: text, payload: anyObject }),
  adyen: Type.Object(
    {
      pspReference: Type.Optional(text),
      originalReference: Type.Optional(text),
      merchantAccountCode: Type.Optional(Type.String()),
      merchantReference: Type.Optional(Type.String()),
      amount: Type.Object({ value: Type.Integer(), currency: Type.String() }, { additionalProperties: false }),
      eventCode: text,
      success: Type.Union([Type.String(), Type.Boolean()]),
    },
    { additionalProperties: false, description: "The eight values an item's hmacSignature covers." },
  ),
  paddle: objectWith({ event_id: text, event_type: text, data: objectWith({ id: text }) }),
  square: objectWith({ event_id: text, type: text, data: objectWith({ id: text }) }),
  "coinbase-commerce": objectWith({ event: objectWith({ id: text, type: text, data: objectWith({ code: text }) }) }),
  xendit: anyObject,
  "portone-v2": objectWith({ type: text, data: anyObject }),
  pulse2pay: anyObject,
  omise: objectWith({ id: text, key: text, data: objectWith({ id: text, status: text }) }),
  paymongo: objectWith({
    data: objectWith({ id: text, attributes: objectWith({ type: text, data: objectWith({ id: text }) }) }),
  }),
  cashfree: objectWith({ type: text, data: objectWith({ order: objectWith({ order_id: text }) }) }),
  paystack: objectWith({ event: text, data: objectWith({ reference: text, status: text }) }),
  "2c2p": objectWith({ invoiceNo: text, respCode: text }),
  fpx: Type.Object(Object.fromEntries(FPX_SIGNED_FIELDS.map((f) => [f, Type.String()])), {
    additionalProperties: false,
    description: "The 21 fields fpx_checkSum signs (a missing one as an empty string).",
  }),
  midtrans: objectWith({ order_id: text, transaction_id: text, transaction_status: text }),
  "payment-options": objectWith({
    success: Type.Boolean(),
    transaction_type: text,
    transaction_details: objectWith({ id: text }),
  }),
};

/** The schemes whose events are their provider API's answers, never the notification itself. */
const API_CONFIRMED: readonly SchemeName[] = ["midtrans", "payment-options"];

const escaped = (name: string) => name.replace(/\./g, "\\.");

function schemeDef(scheme: SchemeName) {
  const api = API_CONFIRMED.includes(scheme);
  const what = api
    ? `A ${scheme} transaction's status as its provider's API answered it (the notification was only a hint); data is the API's answer, card numbers masked.`
    : `A ${scheme} webhook verified by the provider's own rule; data is the whole verified body${scheme === "adyen" ? " (for Adyen: the signed item fields; the rest of the item is unverified)" : scheme === "fpx" ? " (for FPX: the 21 signed fields; the other fields are unverified)" : scheme === "2c2p" ? " (for 2C2P: the JWT's claims)" : ""}.`;
  return envelope({
    provider: Type.Literal(scheme),
    kind: Type.String({ pattern: "^[a-z0-9_.-]{1,64}$" }),
    type: `^${escaped(scheme)}\\..+$`,
    source: api ? Type.Literal("api") : webhook,
    data: SCHEME_DATA[scheme],
    unverified: scheme === "adyen" || scheme === "fpx",
    sourceName: true,
    original: !api,
    description: what,
  });
}

const KNOWN_PROVIDERS = ["portone", "gateway", ...SCHEME_NAMES];

export const EVENT_DEFS = {
  "portone.payment": portOneKind("payment"),
  "portone.payment_link": portOneKind("payment-link"),
  "portone.subscription_link": portOneKind("subscription-link"),
  "portone.refund": envelope({
    provider: portone,
    kind: Type.Literal("refund"),
    type: "^portone\\.refund\\..+$",
    source: webhook,
    data: objectWith({ payment_txn_ref: Type.Optional(text) }),
    unverified: false,
    description: "A refund, forwarded only once PortOne's refund status API confirmed it; data is the API's answer.",
  }),
  "portone.reconciliation": envelope({
    provider: portone,
    kind: Type.Union([Type.Literal("payment"), Type.Literal("payment_link"), Type.Literal("subscription_link")]),
    type: "^portone\\.(payment|payment_link|subscription_link)\\..+$",
    source: reconciliation,
    data: hasStatus,
    unverified: false,
    description: "A status learned from PortOne's API (no webhook told it); data is what the API returned.",
  }),
  "portone.subscription_charge": envelope({
    provider: portone,
    kind: Type.Literal("subscription_charge"),
    type: "^portone\\.subscription_charge\\..+$",
    source: reconciliation,
    data: objectWith({ order_ref: text, subscription_order_ref: text }),
    unverified: false,
    description: "A charge of a subscription, read from PortOne's API.",
  }),
  "gateway.test": envelope({
    provider: Type.Literal("gateway"),
    kind: Type.Literal("test"),
    type: "^gateway\\.test$",
    source: webhook,
    data: Type.Object(
      { destination: text, message: text, sent_at: Type.String({ pattern: ISO_TIME }) },
      { additionalProperties: false },
    ),
    unverified: false,
    description: "A destination's test event (POST /admin/destinations/:name/test).",
  }),
  ...(Object.fromEntries(SCHEME_NAMES.map((s) => [s, schemeDef(s)])) as Record<
    SchemeName,
    ReturnType<typeof schemeDef>
  >),
  source: envelope({
    provider: Type.String({ pattern: `^(?!(${KNOWN_PROVIDERS.map(escaped).join("|")})$)[a-z0-9][a-z0-9_-]*$` }),
    kind: Type.String({ pattern: "^[a-z0-9][a-z0-9_-]*$" }),
    type: "^[a-z0-9_-]+\\.[a-z0-9_-]+\\..+$",
    source: webhook,
    data: anyObject,
    unverified: false,
    sourceName: true,
    original: true,
    description:
      "A generic source of WEBHOOK_SOURCES (hmac or standard): provider is the source's name, data the whole signed body.",
  }),
};

export type EventType = keyof typeof EVENT_DEFS;
/** A forwarded event, as the merchant's origin receives it (schemas/events.schema.json). */
export type ForwardedEvent = { [K in EventType]: Static<(typeof EVENT_DEFS)[K]> }[EventType];

/** The fields every type shares, as the gateway builds them (egress/deliver.ts); `unverified` and
 *  `source_name` where a type has them. */
export type EnvelopeFields = {
  [K in Exclude<keyof ForwardedEvent, "unverified" | "source_name" | "original">]: ForwardedEvent[K];
} & {
  source_name?: string;
  unverified?: Record<string, unknown>;
  original?: { headers: Record<string, string>; body: string };
};

export const SCHEMA_ID = "https://github.com/edge-webhook-gateway/schemas/events.schema.json";

/** The published document: a oneOf over the types, one $def each. */
export function eventsSchema(): Record<string, unknown> {
  const names = Object.keys(EVENT_DEFS);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCHEMA_ID,
    title: "ForwardedEvent",
    description: "POSTed to each destination with Standard Webhooks headers; webhook-id equals id.",
    oneOf: names.map((name) => ({ $ref: `#/$defs/${name}` })),
    $defs: JSON.parse(JSON.stringify(EVENT_DEFS)) as Record<string, unknown>,
  };
}
