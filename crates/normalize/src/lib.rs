//! Normalizes raw extract fields into typed, comparable record tables.
