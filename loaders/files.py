"""Reading source files: line-numbered rows, exact numbers, checksums and the error that names the place."""

import csv
import hashlib
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl


class SourceError(Exception):
    """A source file that cannot be loaded, with the place and the reason."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None, column: str | None = None):
        self.path, self.reason, self.line, self.column = Path(path), reason, line, column
        where = [self.path.name]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {reason}")


def workbook(path: Path) -> openpyxl.Workbook:
    """An xlsx workbook opened read-only for its values; SourceError if it is missing or not a workbook."""
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except Exception as e:  # noqa: BLE001 - openpyxl raises many types for a file that is not a workbook
        raise SourceError(path, f"not a readable xlsx workbook ({e})") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_rows(path: Path, columns: list[str], skip: int = 0) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for a CSV file whose header, after `skip` title lines, has `columns`."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    with f:
        reader = csv.reader(f)
        try:
            for _ in range(skip):
                next(reader)
            found = [h.strip() for h in next(reader)]
            missing = [c for c in columns if c not in found]
            if missing:
                raise SourceError(path, f"header lacks column(s) {missing}; found {found}", line=reader.line_num)
            width = len([h for h in found if h])
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                if len(values) < width:
                    raise SourceError(
                        path, f"row has {len(values)} fields, expected {width} (truncated file?)", line=reader.line_num
                    )
                yield reader.line_num, dict(zip(found, values))
        except StopIteration:
            raise SourceError(path, "file is empty or has no header", line=reader.line_num + 1) from None
        except csv.Error as e:
            raise SourceError(path, f"malformed CSV: {e}", line=reader.line_num) from None
        except UnicodeDecodeError as e:
            raise SourceError(path, f"not UTF-8 text ({e.reason})", line=reader.line_num + 1) from None


_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][-+]?\d+)?$")


def number(text: str | float | None, path: Path, line: int, column: str) -> tuple[float | None, str]:
    """Parse a source number exactly: (value, status). Blank is (None, 'not_available').

    Thousands separators are accepted; a value written in scientific notation keeps only a few
    significant digits in the source, so it is marked 'rounded'.
    """
    if text is None:
        return None, "not_available"
    if isinstance(text, bool):
        raise SourceError(path, f"{text!r} is not a number", line, column)
    if isinstance(text, int | float):
        return float(text), "ok"
    raw = text.strip()
    if raw in ("", "NA", "(NA)", "N/A"):
        return None, "not_available"
    if not _NUMBER.match(raw):
        raise SourceError(path, f"{raw!r} is not a number", line, column)
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise SourceError(path, f"{raw!r} is not a number", line, column) from None
    return float(value), ("rounded" if "e" in raw.lower() else "ok")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: spreadsheet column names for error messages."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name
