//! Output tiers: keyed pseudonyms, masking, coarsening and small-cell suppression.
