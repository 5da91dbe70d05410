// A typed hexgate client: openapi-fetch over the types openapi-typescript generates from
// `hexgate openapi` (src/schema.d.ts, written by check.sh or `npm run generate`; not committed).
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
/** The one error shape every failure answers with. */
export type ErrorBody = Schemas["ErrorBody"];
/** Stable, machine-readable error codes (see docs/errors.md). */
export type ErrorCode = ErrorBody["code"];

export type HexgateClient = Client<paths>;

/** Returns the access token to send, or nothing for an anonymous request. */
export type TokenSource = () => string | undefined | null | Promise<string | undefined | null>;

/**
 * A client for the hexgate at `baseUrl` (e.g. `http://127.0.0.1:8000`). When `getToken` gives a
 * token, every request carries `Authorization: Bearer <token>` unless it sets its own.
 */
export function createHexgateClient(baseUrl: string, getToken?: TokenSource): HexgateClient {
  const client = createClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, "") });
  if (getToken) {
    const bearer: Middleware = {
      async onRequest({ request }) {
        if (request.headers.has("Authorization")) return undefined;
        const token = await getToken();
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(bearer);
  }
  return client;
}
