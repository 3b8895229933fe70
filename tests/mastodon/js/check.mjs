// masto.js against a Townsquare server: REST calls, Link paging, errors, then the WebSocket stream.
// Usage: node check.mjs BASE_URL ACCESS_TOKEN. Prints one JSON line per step; "READY" once subscribed.
import { createRestAPIClient, createStreamingAPIClient, MastoHttpError } from "masto";
import WebSocket from "ws";

const [base, accessToken] = process.argv.slice(2);
const say = (step, value) => console.log(JSON.stringify({ step, value }));
const rest = createRestAPIClient({ url: base, accessToken });

const instance = await rest.v2.instance.fetch();
say("instance", { version: instance.version, streaming: instance.configuration.urls.streaming });
const me = await rest.v1.accounts.verifyCredentials();
say("me", me.acct);
for (const text of ["one", "two", "three"]) {
  await rest.v1.statuses.create({ status: text });
}
const pages = [];
for await (const page of rest.v1.timelines.home.list({ limit: 2 })) {
  pages.push(page.map((status) => status.content));
  if (pages.length === 3) break;
}
say("pages", pages);
try {
  await rest.v1.statuses.$select("1").fetch();
  say("error", "no error for a missing status");
} catch (error) {
  say("error", { http: error instanceof MastoHttpError, status: error.statusCode, message: error.message });
}

const streaming = createStreamingAPIClient({
  streamingApiUrl: instance.configuration.urls.streaming,
  accessToken,
  implementation: WebSocket,
  retry: false,
});
const subscription = streaming.user.notification.subscribe();
// masto.js opens the connection and subscribes when iteration starts: give both time to land.
setTimeout(() => console.log("READY"), 2000);
for await (const event of subscription) {
  say("event", { event: event.event, type: event.payload.type, actor: event.payload.account.acct });
  break;
}
subscription.unsubscribe();
streaming.close();
process.exit(0);
