// The console's page frame: one small inline stylesheet, no script (every page works without
// JavaScript), a navigation bar, and the logout form carrying the session's CSRF token.
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { objectNameParts } from "../../providers/names";

/** An object's console page, from its ledger name (provider:kind:ref, where the ref may hold colons). */
export function objectHref(objectName: string): string {
  const { provider, kind, ref } = objectNameParts(objectName);
  return `/console/objects/${[provider, kind, ref].map(encodeURIComponent).join("/")}`;
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}
header a{color:#cfd8ea;text-decoration:none}header a:hover,header a[aria-current]{color:#fff;text-decoration:underline}
header strong{margin-right:.5rem}header form{margin-left:auto}header button{padding:.2rem .6rem}
main{max-width:1440px;margin:0 auto;padding:1rem}h1{font-size:1.35rem;margin:.4rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.6rem}
.card{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:.6rem .8rem}.card b{display:block;font-size:1.4rem}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde2ea}
th,td{text-align:left;padding:.4rem .55rem;border-bottom:1px solid #eef1f5;vertical-align:top}
td code{overflow-wrap:anywhere}pre.data{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font:12px ui-monospace,Menlo,Consolas,monospace;max-width:34rem}
th{background:#f0f3f7;font-weight:600}td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:18rem}
ol{margin:0;padding-left:1.3rem}
code{font:13px ui-monospace,Menlo,Consolas,monospace}
.state{font-weight:600}.delivered,.closed,.active,.confirmed{color:#1a7f37}.pending,.half_open,.paused,.confirming,.not_ready{color:#9a6700}.filtered{color:#6e7781}.dead,.failed,.error,.open,.unconfirmed{color:#cf222e}.stale{color:#6e7781}
form.inline{display:inline}input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid #b8c1cf;border-radius:6px;background:#fff}
button{background:#1d2330;color:#fff;border-color:#1d2330;cursor:pointer}button.light{background:#fff;color:#1d2330}
.search{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:.8rem}.search input[name=q]{flex:1 1 16rem}
.note{color:#57606a;font-size:.9rem}.flash{background:#dafbe1;border:1px solid #4ac26b;padding:.5rem .8rem;border-radius:6px}
.problem{background:#ffebe9;border:1px solid #ff8182;padding:.5rem .8rem;border-radius:6px}
svg{max-width:100%;height:auto;background:#fff;border:1px solid #dde2ea;border-radius:8px}
@media (max-width:720px){table.stack thead{display:none}table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack tr{border-bottom:2px solid #dde2ea;padding:.35rem 0}table.stack td{border:0;padding:.15rem .55rem}
table.stack td::before{font-weight:600;color:#57606a}td.wrap{min-width:0}
table.events td:nth-child(1)::before{content:"Type: "}table.events td:nth-child(2)::before{content:"Status: "}table.events td:nth-child(3)::before{content:"Delivery: "}table.events td:nth-child(4)::before{content:"Received: "}table.events td:nth-child(5)::before{content:"Attempts: "}table.events td:nth-child(6)::before{content:"Object: "}table.events td:nth-child(7)::before{content:"Merchant order: "}table.events td:nth-child(8)::before{content:"Event id: "}table.timeline td:nth-child(1)::before{content:"#: "}table.timeline td:nth-child(2)::before{content:"Received: "}table.timeline td:nth-child(3)::before{content:"Event: "}table.timeline td:nth-child(4)::before{content:"Status: "}table.timeline td:nth-child(5)::before{content:"Delivery: "}table.timeline td:nth-child(6)::before{content:"Data: "}table.timeline td:nth-child(7)::before{content:"Attempts: "}table.destinations td:nth-child(1)::before{content:"Name: "}table.destinations td:nth-child(2)::before{content:"Host: "}table.destinations td:nth-child(3)::before{content:"Types: "}table.destinations td:nth-child(4)::before{content:"Limits: "}table.destinations td:nth-child(5)::before{content:"State: "}table.destinations td:nth-child(6)::before{content:"Breaker: "}table.destinations td:nth-child(7)::before{content:"Pending: "}table.destinations td:nth-child(8)::before{content:"In flight: "}table.destinations td:nth-child(9)::before{content:"Failures in a row: "}table.confirmations td:nth-child(1)::before{content:"Subject: "}table.confirmations td:nth-child(2)::before{content:"Asked of: "}table.confirmations td:nth-child(3)::before{content:"Hint said: "}table.confirmations td:nth-child(4)::before{content:"Confirmation: "}table.confirmations td:nth-child(5)::before{content:"Status from the API: "}table.confirmations td:nth-child(6)::before{content:"Checks: "}table.confirmations td:nth-child(7)::before{content:"Next check: "}table.confirmations td:nth-child(8)::before{content:"Last error: "}table.audit td:nth-child(1)::before{content:"When: "}table.audit td:nth-child(2)::before{content:"Who: "}table.audit td:nth-child(3)::before{content:"Action: "}table.audit td:nth-child(4)::before{content:"Target: "}table.audit td:nth-child(5)::before{content:"Result: "}table.audit td:nth-child(6)::before{content:"Details: "}table.alerts td:nth-child(1)::before{content:"Severity: "}table.alerts td:nth-child(2)::before{content:"Alert: "}table.alerts td:nth-child(3)::before{content:"What it means: "}table.alerts td:nth-child(4)::before{content:"Count: "}table.alerts td:nth-child(5)::before{content:"Opened: "}table.alerts td:nth-child(6)::before{content:"Last seen: "}table.alerts td:nth-child(7)::before{content:"Resolved: "}}
.sev{font-weight:600;padding:0 .35rem;border-radius:4px}.sev.critical{background:#ffebe9;color:#a40e26}.sev.warning{background:#fff8c5;color:#7d4e00}.sev.info{background:#ddf4ff;color:#0550ae}
`;

const NAV: ReadonlyArray<readonly [string, string]> = [
  ["/console", "Overview"],
  ["/console/events", "Events"],
  ["/console/dead-letters", "Dead letters"],
  ["/console/destinations", "Destinations"],
  ["/console/alerts", "Alerts"],
  ["/console/audit", "Audit log"],
];

export const Page: FC<{ title: string; current?: string; csrf?: string; children?: Child }> = ({
  title,
  current,
  csrf,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${title} · webhook gateway`}</title>
      {/* Our own constant stylesheet, unescaped: escaping turned its quotes into &quot; (invalid CSS). */}
      <style>{raw(STYLE)}</style>
    </head>
    <body>
      <header>
        <strong>Webhook gateway</strong>
        {csrf !== undefined &&
          NAV.map(([href, label]) => (
            <a href={href} aria-current={href === current ? "page" : undefined}>
              {label}
            </a>
          ))}
        {csrf !== undefined && (
          <form method="post" action="/console/logout">
            <input type="hidden" name="csrf" value={csrf} />
            <button class="light" type="submit">
              Log out
            </button>
          </form>
        )}
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

/** A delivery state or outcome as text, coloured by class (never by colour alone). */
/** A button that POSTs to `action` with the session's CSRF token (redeliver, pause, resume…). */
export const ActionButton: FC<{ action: string; csrf: string; label: string }> = ({ action, csrf, label }) => (
  <form class="inline" method="post" action={action}>
    <input type="hidden" name="csrf" value={csrf} />
    <button type="submit">{label}</button>
  </form>
);

export const State: FC<{ value: string | null | undefined }> = ({ value }) => (
  <span class={`state ${value ?? "stale"}`}>
    {value === null || value === undefined ? "not forwarded" : value.replaceAll("_", " ")}
  </span>
);

export const when = (iso: string | null | undefined): string =>
  iso ? iso.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—";
