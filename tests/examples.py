"""Writes api/examples.json, the spec's example of each operation: its request (kept as written there) and the
fixture store's answers to it. `make openapi` runs it; tests/test_openapi.py checks the answers are still true.
A new operation gets an entry {"path": {"request": "/v1/…"}} in api/examples.json, then `make openapi`."""

import json
import tempfile

from helpers import FIXTURES, example_answer, make_app

from api.spec import EXAMPLES


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{tmp}/store.sqlite", FIXTURES, RATELIMIT_LIMIT="120 per minute")
        client = app.test_client()
        examples = json.loads(EXAMPLES.read_text())
        rate_limit = {"/v1/rate_limit": example_answer(client, examples.pop("/v1/rate_limit")["request"])}
        written = rate_limit | {path: example_answer(client, e["request"]) for path, e in examples.items()}
        app.extensions["store_engine"].dispose()
    EXAMPLES.write_text(json.dumps(dict(sorted(written.items())), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
