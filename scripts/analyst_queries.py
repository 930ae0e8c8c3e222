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

Needs the `duckdb` and `polars` packages: `pip install duckdb polars`.
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="the output folder of `aidlink run` or `aidlink demo` (the folder holding periods/)")
    default_docs = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
    parser.add_argument("--docs", default=str(default_docs), help="the Markdown file with the queries")
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

    if failures:
        print(f"\n{len(failures)} failure(s):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"\nall {len(queries)} queries ran with duckdb and polars and agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
