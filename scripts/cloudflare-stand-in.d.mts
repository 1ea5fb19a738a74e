/** See cloudflare-stand-in.mjs. */
export interface StandInScript {
  uploads: Array<{ metadata: Record<string, unknown> & { bindings?: Array<Record<string, unknown>> }; at: number }>;
  secrets: Map<string, string>;
  bindings: Array<Record<string, unknown> & { name: string; type: string }>;
  schedules: Array<{ cron: string }>;
  migrationTag: string | null;
  created: boolean;
}
export interface StandInAccount {
  subdomain: string | null;
  namespaces: Array<{ id: string; title: string }>;
  databases: Map<
    string,
    {
      uuid: string;
      name: string;
      db: { exec(sql: string): Array<{ columns: string[]; values: unknown[][] }> };
    }
  >;
  scripts: Map<string, StandInScript>;
  requests: Array<{ method: string; path: string; at: number }>;
  unknown: string[];
}
export function startCloudflareStandIn(options?: {
  port?: number;
  subdomain?: string | null;
}): Promise<{ url: string; account: StandInAccount; close(): Promise<void> }>;
