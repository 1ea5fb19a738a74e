// How the rest of the gateway reaches a payment object's ledger: by the object's name (objectName,
// provider:kind:ref, providers/names.ts), which the client carries, so no caller passes it twice. The name
// cannot be read back inside the object (ctx.id.name is absent for idFromName ids in some runtimes), so
// the calls that record pass it along; the client does that for them.

import type { Ledger } from "./ledger";
import { objectNameOf } from "../providers/names";
import type { RecordInput } from "./record";
import type { HintInput } from "./confirmations";
import type { PortOneCheck } from "./portone-checks";
import type { Requeue } from "./outbox";

/** The Durable Object of an object's name (tests drive its alarm with it). */
export function ledgerStub(env: Env, objectName: string): DurableObjectStub<Ledger> {
  return env.LEDGER.get(env.LEDGER.idFromName(objectName));
}

/** The Durable Object of a payment object: one per first part, kind and reference. */
export function ledgerFor(env: Env, provider: string, kind: string, objectRef: string): DurableObjectStub<Ledger> {
  return ledgerStub(env, objectNameOf(provider, kind, objectRef));
}

/** A ledger's calls, with its name passed where they need it. */
export function ledgerOf(env: Env, objectName: string) {
  const stub = ledgerStub(env, objectName);
  return {
    objectName,
    record: (input: RecordInput) => stub.record(objectName, input),
    recordHint: (hint: HintInput) => stub.recordHint(objectName, hint),
    checkWithPortOne: (request: PortOneCheck) => stub.checkWithPortOne(objectName, request),
    redeliver: (where: Requeue) => stub.redeliver(where),
    inspect: () => stub.inspect(),
    purge: (cutoff: number) => stub.purge(cutoff),
    wakeFor: (destination: string) => stub.wakeFor(destination),
    ensureAlarm: () => stub.ensureAlarm(),
  };
}

export type LedgerClient = ReturnType<typeof ledgerOf>;
