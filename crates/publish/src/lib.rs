//! Writes a period's tables as Parquet with a manifest, atomically.
