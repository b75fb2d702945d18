//! The facts `device="auto"` decides from ([`crate::device_choice`]), asked of the
//! engines without naming any: whether a software engine decodes a codec, and what the
//! best engine with device frames can do (present, started, decodes the stream, engines,
//! memory left).

use crate::backend::descriptor::SessionsAsk;
use crate::codec::Codec;
use crate::device_choice::GpuSide;
use crate::engine::{Direction, Engine};
use crate::frame::DeviceApi;

use super::Registry;

/// The engines the GPU side of `device="auto"` assumes before the engine is asked (asking
/// starts the device): what the sessions hook answers where the engines cannot be counted.
const ENGINES_UNASKED: u32 = 4;

/// The best engine that decodes `codec` on the CPU (software, picked by `Auto`), asked of
/// the engines' probes (cached per process); `None` where none does. Python's
/// `engine="software"`, and the CPU side of `device="auto"`.
pub fn software_decode_engine(codec: Codec) -> Option<Engine> {
    software_decode_engines(codec).into_iter().next()
}

/// Every software engine that `Auto` may pick and whose probe takes `codec`, best first
/// (probes are cached per process).
pub fn software_decode_engines(codec: Codec) -> Vec<Engine> {
    let reg = Registry::global();
    reg.candidates(Direction::Decode)
        .filter(|e| !e.descriptor.hardware && !e.descriptor.by_name_only && e.open_decoder.is_some())
        .filter(|e| reg.probe(e, codec, Direction::Decode, 0).is_ok())
        .map(|e| e.engine)
        .collect()
}

/// The engine with CUDA device frames (the one CUDA output is asked of), where it is
/// built and its driver loads (nothing is started); `None` otherwise.
pub fn device_decode_engine() -> Option<Engine> {
    let entry = Registry::global().device_entry(DeviceApi::Cuda)?;
    let hooks = entry.descriptor.device?;
    (entry.built.is_ok() && (hooks.present)().is_ok()).then_some(entry.engine)
}

/// What the GPU side can do for a `codec` stream of `width` x `height` on device `device`.
/// Without `ask`, only the cheap facts: whether the engine is built and its driver loads,
/// whether CUDA is started in the process ([`crate::process::cuda_started`]); the engine is
/// not asked whether it decodes the stream, since asking starts the device (`decodes` is
/// `None`). With `ask`, the engine's probe (cached per process), its engine count and the
/// device's free memory.
pub fn gpu_side(codec: Codec, width: u32, height: u32, device: u32, ask: bool) -> GpuSide {
    let reg = Registry::global();
    let mut side = GpuSide { cuda_started: crate::process::cuda_started(), ..GpuSide::default() };
    let Some((entry, hooks)) = reg.device_entry(DeviceApi::Cuda).and_then(|e| e.descriptor.device.map(|h| (e, h)))
    else {
        side.why_not = Some("no engine of this build decodes into device memory".into());
        return side;
    };
    if let Err(why) = entry.built.as_ref().map_err(String::clone).and_then(|()| (hooks.present)()) {
        side.why_not = Some(format!("{}: {why}", entry.engine));
        return side;
    }
    side.present = true;
    side.engines = ENGINES_UNASKED;
    if let Some(why) = (hooks.known_refusal)(codec) {
        // An earlier process asked, on this machine and driver: nothing to start.
        side.decodes = Some(false);
        side.why_not = Some(format!("{} cannot decode {codec}: {why} (known from an earlier process)", entry.engine));
        return side;
    }
    if !ask {
        return side;
    }
    match reg.probe(entry, codec, Direction::Decode, device) {
        Ok(_) => side.decodes = Some(true),
        Err(why) => {
            side.decodes = Some(false);
            side.why_not = Some(format!("{} cannot decode {codec}: {why}", entry.engine));
            return side;
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let sessions = (entry.descriptor.sessions)(&SessionsAsk { codec, width, height, device, cpus });
    side.engines = u32::try_from(sessions.max(1)).unwrap_or(u32::MAX);
    side.free_memory = (hooks.free_memory)(device);
    side
}
