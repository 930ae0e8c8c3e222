//! Reads departmental extracts (CSV, TSV, Excel, Parquet; UTF-8 or GB18030) into raw tables.
