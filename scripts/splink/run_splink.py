"""Runs Splink (DuckDB backend) on aidlink's published record table, with
blocking rules and comparisons comparable to aidlink's defaults, and prints
its wall time and pairwise precision, recall and F1 against the generator's
truth. Used by scripts/bench_vs_splink.sh; arguments: RECORDS.parquet
TRUTH/rows.csv THREADS."""

import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.duckdb.database_api import DuckDBAPI

records, truth, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.time()
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
# The same normalized fields aidlink links on; the birth date and gender
# fall back to the ID's, as aidlink's comparisons do.
con.execute(f"""
CREATE TABLE rec AS
SELECT row_number() OVER () AS unique_id, source, source_row,
       id_number, name, name_pinyin,
       split_part(name_pinyin, ' ', 1) AS surname,
       nullif(substr(name_pinyin, length(split_part(name_pinyin, ' ', 1)) + 2), '') AS given,
       CAST(coalesce(birth_date, id_birth_date) AS VARCHAR) AS dob,
       coalesce(gender, id_gender) AS gender,
       coalesce(guardian_id, head_id) AS guardian,
       coalesce(guardian_name_pinyin, head_name_pinyin) AS guardian_name,
       household_no, phone, address
FROM '{records}'
""")
db = DuckDBAPI(connection=con)
df = db.register("rec")
settings = SettingsCreator(
    link_type="dedupe_only",
    blocking_rules_to_generate_predictions=[
        block_on("id_number"),
        block_on("dob", "name_pinyin"),
        block_on("dob", "surname"),
        block_on("guardian", "surname"),
        block_on("household_no", "surname"),
    ],
    comparisons=[
        cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]),
        # Whole-name Jaro-Winkler would call siblings close (zhang wei / zhang li
        # share the surname), so the given name is compared on its own.
        cl.ExactMatch("name_pinyin").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("given", [0.92]),
        cl.DamerauLevenshteinAtThresholds("dob", [1, 2]),
        cl.ExactMatch("gender"),
        # One household comparison: guardian, phone and address all agree
        # between siblings, and Splink would count them three times.
        cl.ExactMatch("guardian"),
    ],
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)
linker = Linker(df, settings, log_level=30)
linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.95)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_pinyin"))
pred = linker.inference.predict(threshold_match_probability=0.9)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=0.9)
con.execute(f"CREATE TABLE cl AS SELECT unique_id, cluster_id FROM {clusters.physical_name}")
wall = time.time() - start
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{truth}', all_varchar = true)")
con.execute("""
CREATE TABLE j AS
SELECT cl.cluster_id, t.true_person
FROM rec JOIN cl USING (unique_id)
JOIN t ON t.source = rec.source AND t.source_row = CAST(rec.source_row AS VARCHAR)
""")
pairs = lambda col: con.execute(
    f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM j GROUP BY {col})"
).fetchone()[0]
pred_pairs, true_pairs, tp = pairs("cluster_id"), pairs("true_person"), pairs("cluster_id, true_person")
p = tp / pred_pairs if pred_pairs else 1.0
r = tp / true_pairs if true_pairs else 1.0
f1 = 2 * p * r / (p + r) if p + r else 0.0
print(f"splink_wall_s {wall:.2f}")
print(f"splink_precision {p:.4f}")
print(f"splink_recall {r:.4f}")
print(f"splink_f1 {f1:.4f}")
