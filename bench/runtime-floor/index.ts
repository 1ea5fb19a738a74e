// The runtime floor: what any Hono Worker costs to receive a webhook body and answer 200.
import { Hono } from "hono";

const app = new Hono();
app.post("*", async (c) => {
  await c.req.text();
  return c.json({ result: "accepted" });
});

export default app;
