//! Fellegi-Sunter scoring: u from frequencies, m by EM, term-frequency adjustment.
