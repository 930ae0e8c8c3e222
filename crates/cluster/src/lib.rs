//! Clusters scored pairs into persons, deterministically.
