//! The native half of the `video_hw` Python package (`video_hw._video_hw`): decoders with
//! frame-accurate random access over the library's frame index and reader, frames and
//! batches that lend their pixels through DLPack and the array interfaces, an encoder
//! (arrays in, packets and files out), and the typed exceptions. The Python half (`python/video_hw/`) adds slicing, iteration and types.
//!
//! Every call that decodes releases the GIL; the objects may be used from several
//! threads (each decoder serialises its own calls).

mod array;
mod audio;
mod auto;
mod batch;
mod decoder;
mod encoder;
mod errors;
mod gpu_memory;
mod interrupt;
mod metadata;

use pyo3::prelude::*;

/// The module `video_hw._video_hw`.
#[pymodule]
fn _video_hw(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // From now on a forked child (a DataLoader worker) knows whether its parent had used
    // CUDA, and refuses it with a clear error instead of calling the driver.
    video_hw::process::watch_forks();
    m.add_class::<array::Array>()?;
    m.add_class::<batch::Frame>()?;
    m.add_class::<batch::FrameBatch>()?;
    m.add_class::<decoder::NativeDecoder>()?;
    m.add_class::<audio::NativeAudioDecoder>()?;
    m.add_class::<encoder::NativeEncoder>()?;
    m.add_class::<encoder::Packet>()?;
    m.add_function(wrap_pyfunction!(decoder::engines, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_memory::gpu_memory, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_memory::reset_gpu_memory_peak, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_memory::gpu_memory_would_admit, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_memory::set_max_gpu_memory, m)?)?;
    m.add_function(wrap_pyfunction!(gpu_memory::parse_gpu_budget, m)?)?;
    m.add_function(wrap_pyfunction!(decoder::ffmpeg_info, m)?)?;
    m.add_function(wrap_pyfunction!(decoder::add_ffmpeg_search_dir, m)?)?;
    m.add_function(wrap_pyfunction!(decoder::release_cached_decoders, m)?)?;
    m.add_function(wrap_pyfunction!(auto::device_choice, m)?)?;
    m.add_function(wrap_pyfunction!(auto::observe_decode, m)?)?;
    m.add_function(wrap_pyfunction!(auto::device_rates, m)?)?;
    m.add_function(wrap_pyfunction!(auto::software_engine, m)?)?;
    m.add_function(wrap_pyfunction!(auto::device_engine, m)?)?;
    errors::register(m)?;
    Ok(())
}
