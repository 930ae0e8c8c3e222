#!/usr/bin/env python3
"""Runs the example queries of docs/analysts.md against a published output folder.

    python scripts/analyst_queries.py DIR [--docs docs/analysts.md]

Every ```sql block that starts with `-- query: NAME` is run with DuckDB, every
```python block that starts with `# query: NAME` is run with Polars (the block
must leave its answer in `result`). The docs' demo folder `aidlink-demo/out`
is replaced by DIR, so the queries run exactly as documented. The script exits
non-zero when a query fails, returns no rows (unless its block says
`-- may be empty`), when a name has no DuckDB or no Polars form, or when the two
forms of a query return different rows.

It then checks the analyst tier for leaks (skip with --no-leak-check, or
when the restricted tier is not readable): every value of every analyst-tier
file, and the bytes of those files, of `manifest.json` and of `run.json`, are
scanned for the ID numbers, phone numbers and names (and certificate, student
and household numbers) of the restricted `records` tables. A name that is also
an ordinary value of the restricted tier (a relation such as 孙子, a school)
is not counted.

Needs the `duckdb` and `polars` packages: `pip install duckdb polars`.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

DEMO_DIR = "aidlink-demo/out"
BLOCK = re.compile(r"^```(sql|python)\n(.*?)^```", re.M | re.S)
MAY_BE_EMPTY = "may be empty"


def blocks(docs_text):
    """Yields (language, name, code) for every named code block of the docs."""
    for lang, code in BLOCK.findall(docs_text):
        first = code.splitlines()[0] if code.strip() else ""
        marker = "-- query:" if lang == "sql" else "# query:"
        if first.startswith(marker):
            yield lang, first[len(marker):].strip(), code


def normalize(value):
    """A comparable, hashable form of a cell: floats rounded, lists as tuples."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, (list, tuple)):
        return tuple(normalize(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalize(v)) for k, v in value.items()))
    return value


def rows_key(rows):
    """Rows as a sorted list, so row order (which both engines may choose) does not matter."""
    return sorted((tuple(normalize(v) for v in row) for row in rows), key=repr)


def run_duckdb(code, out_dir):
    import duckdb

    sql = code.replace(DEMO_DIR, out_dir)
    con = duckdb.connect()
    try:
        rel = con.execute(sql)
        columns = [d[0] for d in rel.description]
        return columns, rel.fetchall()
    finally:
        con.close()


def run_polars(code, out_dir):
    import polars as pl

    source = code.replace(DEMO_DIR, out_dir)
    scope = {}
    exec(compile(source, "<analysts.md>", "exec"), scope)
    result = scope.get("result")
    if not isinstance(result, pl.DataFrame):
        raise TypeError(f"the block must leave a polars DataFrame in `result`, found {type(result).__name__}")
    return result.columns, result.rows()


PSEUDONYM = re.compile(r"^[a-z]{2}_[0-9a-f]{32}$")
# Columns of the restricted records whose values must not reach analysts.
SECRET_COLUMNS = {
    "id_number": "ID number", "guardian_id": "ID number", "head_id": "ID number",
    "phone": "phone number",
    "name": "name", "guardian_name": "name", "head_name": "name",
    "certificate_no": "certificate number", "student_no": "student number", "household_no": "household number",
}
NAME_KINDS = {"name"}


def texts_of(value, into):
    """Collects every string inside a cell (lists, structs, JSON text included)."""
    if value is None:
        return
    if isinstance(value, str):
        if not PSEUDONYM.match(value):
            into.add(value)
            if value[:1] in "{[":
                try:
                    texts_of(json.loads(value), into)
                except ValueError:
                    pass
    elif isinstance(value, (list, tuple)):
        for v in value:
            texts_of(v, into)
    elif isinstance(value, dict):
        for k, v in value.items():
            texts_of(k, into)
            texts_of(v, into)


def leak_check(out_dir):
    """Returns the list of leaks found (empty when clean), or None when skipped."""
    import polars as pl

    restricted = sorted(out_dir.glob("periods/*/restricted/records.parquet"))
    try:
        frames = [pl.read_parquet(f) for f in restricted]
    except PermissionError:
        print("leak check skipped: the restricted tier is not readable by this account")
        return None
    if not frames:
        print("leak check skipped: no restricted records table found")
        return None
    secrets = {}
    ordinary = set()
    for df in frames:
        for col in df.columns:
            if df[col].dtype != pl.Utf8:
                continue
            values = set(df[col].drop_nulls().unique().to_list())
            if col in SECRET_COLUMNS:
                kind = SECRET_COLUMNS[col]
                # Codes shorter than 8 characters (a household number `H12`)
                # are not unique enough to be searched for.
                shortest = 2 if kind in NAME_KINDS else 8
                for v in values:
                    if len(v) >= shortest:
                        secrets.setdefault(v, kind)
            else:
                ordinary |= values
    for v in list(secrets):
        if secrets[v] == "name" and v in ordinary:
            del secrets[v]

    files = sorted(out_dir.glob("periods/*/analyst/*.parquet"))
    texts = set()
    for f in files:
        df = pl.read_parquet(f)
        for col in df.columns:
            for v in df[col].unique().to_list():
                texts_of(v, texts)
    # Identifiers are found by lookup, not by searching every text for every
    # identifier (which is quadratic at a million students): every run of
    # letters and digits in the decoded texts, and every run of digits in the
    # raw bytes of the files, is cut into windows of the identifiers' lengths.
    lengths = sorted({len(v) for v, kind in secrets.items() if kind not in NAME_KINDS})
    found = {}

    def windows(run, source):
        for n in lengths:
            if n > len(run):
                break
            for i in range(len(run) - n + 1):
                w = run[i:i + n]
                if w in secrets and secrets[w] not in NAME_KINDS:
                    found.setdefault(w, source)

    token = re.compile(r"[0-9A-Za-z]{%d,}" % (lengths[0] if lengths else 1))
    for text in texts:
        if text in secrets:
            found.setdefault(text, "an analyst value")
        for run in token.findall(text):
            windows(run, "an analyst value")
    digit_runs = re.compile(rb"[0-9]{%d,}X?" % (lengths[0] if lengths else 1))
    raw_files = files + sorted(out_dir.glob("periods/*/manifest.json")) + sorted(out_dir.glob("periods/*/run.json"))
    for f in raw_files:
        for run in digit_runs.findall(f.read_bytes()):
            windows(run.decode("ascii"), f"the bytes of {f.relative_to(out_dir)}")
    leaks = []
    for value, where in sorted(found.items()):
        kind = secrets[value]
        shown = value[:6] + "*" * max(0, len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)
        leaks.append(f"restricted-tier {kind} {shown} appears in {where}")
    print(f"leak check: {len(secrets)} identifiers from {len(frames)} restricted records tables, "
          f"{len(files)} analyst files and {len(texts)} distinct analyst texts scanned: {len(leaks)} found")
    return leaks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="the output folder of `aidlink run` or `aidlink demo` (the folder holding periods/)")
    default_docs = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
    parser.add_argument("--docs", default=str(default_docs), help="the Markdown file with the queries")
    parser.add_argument("--no-leak-check", action="store_true", help="only run the queries")
    args = parser.parse_args()

    out_dir = Path(args.out_dir)
    if not (out_dir / "periods").is_dir():
        print(f"error: {out_dir} has no periods/ folder; pass the folder given to `aidlink run --out`", file=sys.stderr)
        return 2
    out = out_dir.as_posix()
    docs_text = Path(args.docs).read_text(encoding="utf-8")

    queries = {}
    for lang, name, code in blocks(docs_text):
        queries.setdefault(name, {})[lang] = code
    if not queries:
        print(f"error: no named queries found in {args.docs}", file=sys.stderr)
        return 2

    failures = []
    for name, forms in queries.items():
        missing = {"sql", "python"} - forms.keys()
        if missing:
            failures.append(f"{name}: no {' and no '.join(sorted(missing))} form in the docs")
            continue
        may_be_empty = MAY_BE_EMPTY in forms["sql"] or MAY_BE_EMPTY in forms["python"]
        results = {}
        for lang, runner, engine in (("sql", run_duckdb, "duckdb"), ("python", run_polars, "polars")):
            try:
                columns, rows = runner(forms[lang], out)
            except Exception as e:  # noqa: BLE001 - any failure of a documented query is a failure
                failures.append(f"{name} ({engine}): {type(e).__name__}: {e}")
                continue
            results[engine] = (columns, rows)
            print(f"{name:28} {engine:7} {len(rows):6} rows  columns: {', '.join(columns)}")
            if not rows and not may_be_empty:
                failures.append(f"{name} ({engine}): returned no rows")
        if len(results) == 2:
            (dc, dr), (pc, pr) = results["duckdb"], results["polars"]
            if dc != pc:
                failures.append(f"{name}: duckdb columns {dc} differ from polars columns {pc}")
            elif rows_key(dr) != rows_key(pr):
                failures.append(f"{name}: duckdb and polars return different rows (first duckdb rows: {dr[:3]}, first polars rows: {pr[:3]})")

    if not args.no_leak_check:
        failures += leak_check(out_dir) or []

    if failures:
        print(f"\n{len(failures)} failure(s):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"\nall {len(queries)} queries ran with duckdb and polars and agree; no leak found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
