//! AVCC/HVCC (stub, filled in below).
