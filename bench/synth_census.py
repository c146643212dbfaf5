"""Write a synthetic Census International Trade API `statenaics` answer (JSON array of arrays of strings).

    .venv/bin/python bench/synth_census.py OUT.json [ROWS]

Rows are state x NAICS x country x year, all annual (MONTH 12), with values from a fixed random seed; the
header and the trailing echoed predicate column are as the real API writes them.
"""

import random
import sys

import orjson
import us

HEADER = ["STATE", "NAICS", "NAICS_LDESC", "CTY_CODE", "CTY_NAME", "ALL_VAL_YR", "YEAR", "MONTH", "STATE"]


def rows(count: int):
    states = [s.abbr for s in us.STATES] + ["DC"]
    naics = [f"{n:03d}" for n in range(111, 340)] + [f"{n:04d}" for n in range(1111, 3399, 7)]
    countries = [f"{c:04d}" for c in range(1000, 8000, 10)]
    years = [str(y) for y in range(2000, 2025)]
    rng = random.Random(2026)
    produced = 0
    for year in years:
        for state in states:
            for code in naics:
                for country in countries:
                    if produced == count:
                        return
                    yield [state, code, f"INDUSTRY {code}", country, f"COUNTRY {country}",
                           str(rng.randrange(0, 10**10)), year, "12", state]
                    produced += 1


def main(path: str, count: int = 1_000_000) -> None:
    with open(path, "wb") as f:
        f.write(orjson.dumps([HEADER, *rows(count)]))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
