//! Codec detection from content (stub, filled in below).
