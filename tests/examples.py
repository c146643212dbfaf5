"""Writes api/examples.json, the spec's example of each operation: its request (kept as written there) and the
fixture store's answers to it. `make openapi` runs it; tests/test_openapi.py checks the answers are still true.
A new operation gets an entry {"path": {"request": "/v1/…"}} in api/examples.json, then `make openapi`. The entry
of an operation that also answers CSV holds that answer ("csv"), which is the example of its .csv operation (the
same request on the path + .csv: the same bytes, as tests/test_openapi.py checks); that one has no entry."""

import json
import tempfile

from helpers import FIXTURES, example_answer, make_app, of_the_moment

from api.spec import EXAMPLES


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{tmp}/store.sqlite", FIXTURES, RATELIMIT_LIMIT="120 per minute")
        client = app.test_client()
        examples = json.loads(EXAMPLES.read_text())
        # first, before any other request is counted against the rate limit it shows
        order = sorted(examples, key=lambda path: path != "/v1/rate_limit")
        answers = {path: example_answer(client, examples[path]["request"]) for path in order}
        app.extensions["store_engine"].dispose()
    # an answer that differs only in the load time (or the rate-limit window) is kept as it was written
    written = {path: examples[path] if of_the_moment(examples[path]) == of_the_moment(answer) else answer
               for path, answer in sorted(answers.items())}
    EXAMPLES.write_text(json.dumps(written, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
