//! Generates synthetic departmental extracts of a city, with ground truth.
