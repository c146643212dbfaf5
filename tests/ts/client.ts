// Calls the API through openapi-fetch, typed by the `paths` that openapi-typescript generated from openapi.yaml
// (schema.d.ts, beside this file when tests/test_generated_client.py compiles it with tsc --strict). Prints what it
// got as JSON; the test asserts on it. Usage: node build/client.js BASE_URL
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Problem = components["schemas"]["Problem"];

// Media: data typed as JSON and errors as problem+json; a CSV, an operation of its own at the path + .csv, is read
// with parseAs: "text".
const client = createClient<paths, `application/${string}json`>({ baseUrl: process.argv[2] });

// A list parameter as openapi-fetch sends it by default (industry=ALL&industry=336), and comma-separated.
const repeated = await client.GET("/v1/states/{code}/exports", {
  params: { path: { code: "OR" }, query: { industry: ["ALL", "336"], from: 2018 } },
});
const commas = await client.GET("/v1/states/{code}/exports", {
  params: { path: { code: "OR" }, query: { industry: ["ALL", "336"], from: 2018 } },
  querySerializer: { array: { style: "form", explode: false } },
});

// A page of metros: the total from X-Total-Count and from meta.
const page = await client.GET("/v1/metros", { params: { query: { q: "portland", page_size: 1 } } });

// A series as CSV, and a page of metros: their .csv operations, read as text (the page's links name the .csv path).
const csv = await client.GET("/v1/metros/{code}/exports.csv", {
  params: { path: { code: "38900" }, query: { from: 2022 } },
  parseAs: "text",
});
const csvPage = await client.GET("/v1/metros.csv", {
  params: { query: { q: "portland", page_size: 1 } },
  parseAs: "text",
});

// Problems, typed.
const notFound = await client.GET("/v1/metros/{code}/exports", { params: { path: { code: "99999" } } });
const badIndustry = await client.GET("/v1/states/{code}/exports", {
  params: { path: { code: "OR" }, query: { industry: ["x"] } },
});
const problems: (Problem | undefined)[] = [notFound.error, badIndustry.error];

// Revalidation: the ETag sent back in If-None-Match gets a 304 without a body.
const first = await client.GET("/v1/metros/{code}", { params: { path: { code: "38900" } } });
const etag = first.response.headers.get("ETag") ?? "";
const again = await client.GET("/v1/metros/{code}", {
  params: { path: { code: "38900" } },
  headers: { "If-None-Match": etag },
});

// Compiled, never run: the spec offers each format where the operation answers it, and CSV at the .csv path only.
export function refused() {
  return [
    // @ts-expect-error a metro's detail is JSON only
    client.GET("/v1/metros/{code}", { params: { path: { code: "38900" }, query: { format: "csv" } } }),
    // @ts-expect-error a series' CSV is its .csv operation (format=csv still works, but is not offered)
    client.GET("/v1/metros/{code}/exports", { params: { path: { code: "38900" }, query: { format: "csv" } } }),
    client.GET("/v1/metros/{code}/exports.csv", {
      // @ts-expect-error a .csv operation has no format parameter
      params: { path: { code: "38900" }, query: { format: "json" } },
      parseAs: "text",
    }),
  ];
}

console.log(JSON.stringify({
  repeated: repeated.data?.data?.map((p) => [p.industry, p.year, p.value, p.status]),
  commas: commas.data?.data?.map((p) => [p.industry, p.year, p.value, p.status]),
  page: { header: page.response.headers.get("X-Total-Count"), total: page.data?.meta?.total,
          names: page.data?.data?.map((m) => m.name), link: page.response.headers.get("Link") },
  csv: { type: csv.response.headers.get("Content-Type"), text: csv.data },
  csvPage: { text: csvPage.data, total: csvPage.response.headers.get("X-Total-Count"),
             link: csvPage.response.headers.get("Link") },
  problems: problems.map((p) => p && { status: p.status, title: p.title, detail: p.detail, errors: p.errors }),
  revalidation: { first: first.response.status, name: first.data?.name, etag, status: again.response.status,
                  body: again.error },
}));
