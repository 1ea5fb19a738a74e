// What `npm run dev` starts with, in a few lines: which features are on and off and why, from the
// local variables. Never a secret's value: only whether one is set, counts, names and hosts.

const set = (v) => typeof v === "string" && v.trim() !== "";
const host = (url) => {
  try {
    return new URL(url).host;
  } catch {
    return "an invalid URL";
  }
};

function destinations(vars) {
  const names = [];
  if (set(vars.MERCHANT_ORIGIN_URL)) names.push(`default → ${host(vars.MERCHANT_ORIGIN_URL)}`);
  if (set(vars.DESTINATIONS)) {
    try {
      for (const [name, d] of Object.entries(JSON.parse(vars.DESTINATIONS))) names.push(`${name} → ${host(d?.url)}`);
    } catch {
      return "DESTINATIONS is not valid JSON: every webhook will be refused with 503";
    }
  }
  return names.length > 0 ? names.join(", ") : "none: set MERCHANT_ORIGIN_URL (events are kept until then)";
}

/** `tokenFrom`: the file ADMIN_TOKEN comes from; `port`: where the gateway listens. */
export function summary(vars, from, { tokenFrom = ".dev.vars.example", port = "8787" } = {}) {
  const secrets = set(vars.PORTONE_SECRET_KEY) ? vars.PORTONE_SECRET_KEY.split(",").filter(set).length : 0;
  const admin = set(vars.ADMIN_TOKEN);
  const access = set(vars.CF_ACCESS_TEAM_DOMAIN) || set(vars.CF_ACCESS_AUD);
  const apiKey = set(vars.PORTONE_KEY);
  const after = set(vars.RECONCILE_AFTER_MINUTES) ? vars.RECONCILE_AFTER_MINUTES : "30";
  const lines = [
    `[dev] variables: ${from}`,
    `[dev] PortOne webhooks: ${secrets > 0 ? `on (${secrets} secret key${secrets > 1 ? "s" : ""})` : "OFF: PORTONE_SECRET_KEY is empty, every webhook gets 503 not_configured"}`,
    `[dev] destinations: ${destinations(vars)}`,
    `[dev] admin API and console: ${admin ? `on: http://127.0.0.1:${port}/console${access ? ", behind Cloudflare Access" : `, its token is ADMIN_TOKEN from ${tokenFrom}`}` : "OFF: ADMIN_TOKEN is empty, /admin and /console answer 404"}`,
    `[dev] reconciliation: ${apiKey ? `on, with ${set(vars.PORTONE_API_BASE_URL) ? host(vars.PORTONE_API_BASE_URL) : "api.portone.cloud"}, objects silent ${after} min` : "no PORTONE_KEY: PortOne's API cannot be asked"}; no cron fires by itself locally: curl "http://127.0.0.1:${port}/__scheduled?cron=*/5+*+*+*+*" or POST /admin/reconcile`,
    `[dev] sweep of PortOne's payment list: ${set(vars.PORTONE_ENVIRONMENT) ? `on (${vars.PORTONE_ENVIRONMENT})` : "off (PORTONE_ENVIRONMENT empty)"}`,
  ];
  return lines.join("\n");
}
