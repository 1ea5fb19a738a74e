// Types for scripts/portone-stand-in.mjs, for the browser tests.
import type http from "node:http";

export interface PortOneStandIn {
  readonly server: http.Server;
  readonly stand: { state: unknown; calls: string[] };
}

export function startPortOneStandIn(port?: number, host?: string): Promise<PortOneStandIn>;
