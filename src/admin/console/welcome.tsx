// GET /: where to go from the gateway's own address (what wrangler's `[b]` key and a curious visitor
// open): the console for operators, the webhook URLs to register in PortOne, and the docs. It says
// nothing of the configuration (not even whether the console is open): it is public.
import type { Context } from "hono";
import type { FC } from "hono/jsx";
import type { AppEnv } from "../../env";
import { Page } from "./layout";

const ROUTES = ["payment", "payment-link", "subscription-link", "refund"] as const;

export const WelcomePage: FC<{ origin: string }> = ({ origin }) => (
  <Page title="Edge webhook gateway">
    <p>
      This gateway verifies payment providers' webhooks, stores them durably and forwards them, signed, to the
      merchant's servers.
    </p>
    <h2>Operators</h2>
    <p>
      The console is at <a href="/console">/console</a> (sign in with the <code>ADMIN_TOKEN</code> this gateway was
      deployed with; locally, the one in <code>.dev.vars.example</code>), and the operator API under <code>/admin</code>
      .
    </p>
    <h2>Register in PortOne</h2>
    <p class="note">Settings → Webhooks, one URL per webhook type:</p>
    <ul>
      {ROUTES.map((route) => (
        <li>
          <code>{`${origin}/webhooks/portone/${route}`}</code>
        </li>
      ))}
    </ul>
    <h2>Docs</h2>
    <p>
      The repository's README (the two local commands, and <code>npm run deploy</code>), <code>docs/operations.md</code>{" "}
      (deploying and running it) and <code>docs/receiving-events.md</code> (what your server receives).
    </p>
  </Page>
);

export const welcome = (c: Context<AppEnv>) => c.html(<WelcomePage origin={new URL(c.req.url).origin} />);
