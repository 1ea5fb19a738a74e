// Xendit (https://docs.xendit.co/docs/handling-webhooks, "Verify webhook"): every callback carries
// `x-callback-token`, the account's verification token, compared here in constant time (as digests,
// so not even its length shows). The token
// authenticates the sender, not the body: anyone who holds it can send any body, and nothing proves
// a body unchanged in transit (TLS does). No timestamp is sent. Xendit publishes no Node SDK that
// verifies callbacks; its docs are the rule.
// The event id is the `webhook-id` header Xendit sends for idempotency, else the body's hash; the
// object is `id` (else `external_id`, else `data.id`), its status `status` (else `data.status`).

import { anyMatch, secretMatches } from "../../lib/hmac";
import { reject } from "../types";
import { recordAt, textOf, wholeBodyItem, type Scheme, type SchemeInput, type SchemeResult } from "./scheme";

export const xendit: Scheme = {
  name: "xendit",
  signedHeaders: ["webhook-id"],
  toleranceSeconds: null,
  verify: verifyToken,
};

async function verifyToken(input: SchemeInput): Promise<SchemeResult> {
  const token = input.headers.get("x-callback-token");
  if (token === null || token === "") return reject("missing_signature", "x-callback-token is missing");
  if (!(await anyMatch(input.secrets, (secret) => secretMatches(token, secret))))
    return reject("bad_signature", "x-callback-token is not this source's token");
  const webhookId = input.headers.get("webhook-id")?.trim();
  return wholeBodyItem(input.raw, (body) => {
    const data = recordAt(body, "data");
    return {
      id: webhookId ? webhookId : null,
      objectRef: textOf(body, "id") ?? textOf(body, "external_id") ?? textOf(data, "id"),
      kind: "event",
      status: textOf(body, "status") ?? textOf(data, "status"),
    };
  });
}
