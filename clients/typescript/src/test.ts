// End-to-end check of the generated client against a live hexgate (HEXGATE_URL). Every request
// and response goes through the generated types: a renamed field, path or operation breaks `tsc`.
import { createHexgateClient, type ErrorBody, type Schemas } from "./client.js";

const baseUrl = process.env.HEXGATE_URL ?? "http://127.0.0.1:8000";
const adminEmail = process.env.HEXGATE_ADMIN_EMAIL ?? "admin@example.com";
const adminPassword = process.env.HEXGATE_ADMIN_PASSWORD ?? "AdminPass123";

let passed = 0;

class CheckFailed extends Error {}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

async function check<T>(name: string, body: () => Promise<T>): Promise<T> {
  try {
    const value = await body();
    passed += 1;
    console.log(`ok - ${name}`);
    return value;
  } catch (err) {
    console.log(`not ok - ${name}: ${err instanceof Error ? err.message : String(err)}`);
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  }
}

/** The data of a successful answer with the expected status, or a failed check. */
function expect<T>(
  result: { data?: T; error?: ErrorBody | undefined; response: Response },
  status: number,
): T {
  const { data, error, response } = result;
  if (response.status !== status || data === undefined) {
    const detail = error ? `${error.code}: ${error.detail}` : "no body";
    throw new CheckFailed(`expected ${status}, got ${response.status} (${detail})`);
  }
  return data;
}

interface Tokens {
  access: string;
  refresh: string;
}

const anonymous = createHexgateClient(baseUrl);

// What the token requests were sent as: the form encoding is checked, not assumed.
const tokenRequestTypes: string[] = [];
anonymous.use({
  onRequest({ request, schemaPath }) {
    if (schemaPath === "/api/v1/auth/token") tokenRequestTypes.push(request.headers.get("content-type") ?? "");
    return undefined;
  },
});

async function login(username: string, password: string): Promise<Tokens> {
  // The OAuth2 password grant as a form, the way OAuth2 clients send it; openapi-fetch's default
  // body serializer encodes the body as `application/x-www-form-urlencoded` for that header.
  const data = expect(
    await anonymous.POST("/api/v1/auth/token", {
      body: { username, password, grant_type: "password" },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
    200,
  );
  assert(data.token_type.toLowerCase() === "bearer", `token_type ${data.token_type}`);
  assert(data.expires_in > 0, `expires_in ${data.expires_in}`);
  const sentAs = tokenRequestTypes.at(-1) ?? "";
  assert(sentAs.startsWith("application/x-www-form-urlencoded"), `sent as ${sentAs}`);
  return { access: data.access_token, refresh: data.refresh_token };
}

async function main(): Promise<void> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const username = `ts_${suffix}`;
  const email = `${username}@example.com`;
  const password = "Typescript1";
  const productName = `TS lamp ${suffix}`;

  await check("health", async () => {
    const { response } = await anonymous.GET("/health");
    assert(response.status === 200, `status ${response.status}`);
  });

  const adminTokens = await check("admin logs in with a form", () => login(adminEmail, adminPassword));
  const admin = createHexgateClient(baseUrl, () => adminTokens.access);

  const product = await check("admin creates a product", async () => {
    const created = expect(
      await admin.POST("/api/v1/products", { body: { name: productName, price: 19.99, tax_rate: 0.2 } }),
      201,
    );
    assert(created.name === productName, `name ${created.name}`);
    assert(created.price_with_tax === 23.99, `price_with_tax ${created.price_with_tax}`);
    return created;
  });

  const user = await check("sign up", async () => {
    const created = expect(
      await anonymous.POST("/api/v1/users", {
        body: { email, username, password, full_name: "Type Script" },
      }),
      201,
    );
    assert(created.username === username, `username ${created.username}`);
    assert(created.permissions.length === 0, `permissions ${created.permissions.join(",")}`);
    return created;
  });

  let tokens = await check("log in", () => login(username, password));
  const client = createHexgateClient(baseUrl, () => tokens.access);

  await check("read /users/me", async () => {
    const me = expect(await client.GET("/api/v1/users/me"), 200);
    assert(me.id === user.id, `id ${me.id} != ${user.id}`);
    assert(me.username === username, `username ${me.username}`);
    assert(me.email === email, `email ${me.email}`);
  });

  await check("an API key reads /users/me and may not manage keys", async () => {
    const created = expect(
      await client.POST("/api/v1/auth/api-keys", {
        body: { name: "ts client", scopes: ["profile:read"], expires_in_days: 30 },
      }),
      201,
    );
    assert(created.key.startsWith("hgk_") && created.prefix === created.key.slice(0, 12), "key and prefix");
    const byKey = createHexgateClient(baseUrl, () => created.key);
    const me = expect(await byKey.GET("/api/v1/users/me"), 200);
    assert(me.id === user.id, `id ${me.id} != ${user.id}`);
    const refused = await byKey.GET("/api/v1/auth/api-keys");
    assert(refused.error?.code === "insufficient_scope", `got ${JSON.stringify(refused.error)}`);
  });

  await check("list products finds the new one", async () => {
    const page = expect(
      await client.GET("/api/v1/products", { params: { query: { q: suffix, page: 1, page_size: 10 } } }),
      200,
    );
    const found: Schemas["ProductResponse"] | undefined = page.items.find((p) => p.id === product.id);
    assert(found !== undefined, `product ${product.id} not in ${page.total} results`);
    assert(found.price === 19.99, `price ${found.price}`);
    assert(page.page === 1 && !page.has_previous, `page ${page.page}`);
  });

  await check("walk the users list by cursor", async () => {
    const all = expect(await admin.GET("/api/v1/users", { params: { query: { page_size: 100 } } }), 200);
    assert(all.total !== null && all.total >= 2 && all.items.length === all.total, `total ${all.total}`);
    let page = expect(await admin.GET("/api/v1/users", { params: { query: { page_size: 1 } } }), 200);
    const seen: string[] = page.items.map((u) => u.id);
    let cursor: string | null = page.next_cursor;
    while (cursor !== null) {
      page = expect(await admin.GET("/api/v1/users", { params: { query: { page_size: 1, cursor } } }), 200);
      const counted: number | null = page.total;
      assert(counted === null && page.page === null && page.pages === null, `a cursor page is not counted`);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.next_cursor;
    }
    const expected = all.items.map((u) => u.id).join(",");
    assert(seen.join(",") === expected, `walked ${seen.length} of ${all.items.length}`);
  });

  await check("place an order", async () => {
    const line: Schemas["OrderLineRequest"] = { product_id: product.id, quantity: 2 };
    const order = expect(await client.POST("/api/v1/orders", { body: { items: [line] } }), 201);
    assert(order.user_id === user.id, `user_id ${order.user_id}`);
    assert(order.status === "pending", `status ${order.status}`);
    assert(order.items.length === 1 && order.items[0]?.name === productName, "items");
    assert(order.total === 39.98, `total ${order.total}`);
    const read = expect(
      await client.GET("/api/v1/orders/{id}", { params: { path: { id: order.id } } }),
      200,
    );
    assert(read.total === order.total, `read back total ${read.total}`);
  });

  await check("refresh gives a working pair", async () => {
    const old = tokens;
    const pair = expect(
      await anonymous.POST("/api/v1/auth/refresh", { body: { refresh_token: old.refresh } }),
      200,
    );
    assert(pair.refresh_token !== old.refresh, "refresh token was not rotated");
    tokens = { access: pair.access_token, refresh: pair.refresh_token };
    const me = expect(await client.GET("/api/v1/users/me"), 200);
    assert(me.id === user.id, `id ${me.id}`);
  });

  await check("no token is not_authenticated", async () => {
    const { error, response } = await anonymous.GET("/api/v1/users/me");
    assert(response.status === 401, `status ${response.status}`);
    assert(error?.code === "not_authenticated", `code ${error?.code}`);
  });

  await check("a bad sign-up is validation_failed with body.email", async () => {
    const { data, error, response } = await anonymous.POST("/api/v1/users", {
      body: { email: "nope", username: "a", password: "short" },
    });
    assert(data === undefined && error !== undefined, "the bad body was accepted");
    assert(response.status === 422, `status ${response.status}`);
    assert(error.code === "validation_failed", `code ${error.code}`);
    const fields = (error.errors ?? []).map((e) => e.field);
    assert(fields.includes("body.email"), `fields ${fields.join(",")}`);
    assert(typeof error.request_id === "string" && error.request_id.length > 0, "request_id");
  });

  console.log(`${passed} passed, 0 failed`);
}

main().catch((err: unknown) => {
  console.log(`not ok - unexpected: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
});
