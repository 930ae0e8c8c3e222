//! Flags resolved persons by the aid rules, with evidence.
