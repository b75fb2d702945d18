//! Hardware engines behind the backend-neutral API.

pub(crate) mod nvidia;
