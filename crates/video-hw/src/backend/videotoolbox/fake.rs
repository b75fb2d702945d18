//! A fake VideoToolbox for the tests, as `nvenc/fake/` is for NVENC: the same [`Layer`]
//! with every call logged, callbacks delivered on a thread of the fake session's own (as
//! VideoToolbox delivers them on its threads), and errors by `OSStatus` on request.
//!
//! Decoding makes a picture of the format's coded size whose first luma byte is the
//! sample's tag, so a test can tell which access unit each frame came from; encoding makes
//! a sample whose payload is the frame's first luma byte, reordered two by two when
//! frame reordering is allowed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::codec::Codec;
use crate::pixels::planar::Layout;

use super::api::{
    DecodeFormat, DecodeSession, Decoded, EncodeSession, EncodeSetup, Encoded, EncodedSample, EncoderInfo,
    InputPicture, Layer, OsStatus, Picture, SampleTiming,
};
use super::outbox::Outbox;
use super::properties::Property;

/// What the fake does differently from success, set by a test.
#[derive(Debug, Default, Clone)]
pub(crate) struct Script {
    /// The callback of the decode with this tag reports this status.
    pub callback_status: HashMap<u64, OsStatus>,
    /// The decode call with this tag fails with this status (no callback).
    pub decode_call_fails: HashMap<u64, OsStatus>,
    /// The callback of the decode with this tag never comes.
    pub callback_missing: HashSet<u64>,
    /// These decodes are reported dropped.
    pub dropped: HashSet<u64>,
    /// Opening a session fails with this status.
    pub open_fails: Option<OsStatus>,
    /// Setting this property key fails with `kVTPropertyNotSupportedErr`.
    pub refused_keys: HashSet<&'static str>,
}

/// The fake layer: a shared call log and script.
#[derive(Default, Clone)]
pub(crate) struct FakeLayer {
    /// Every call, in order, as text ("open_decoder 320x240 sets=2", "decode 3", …).
    pub log: Arc<Mutex<Vec<String>>>,
    /// Threads the callbacks ran on, by name.
    pub callback_threads: Arc<Mutex<HashSet<String>>>,
    /// What to do differently.
    pub script: Arc<Mutex<Script>>,
}

impl FakeLayer {
    fn log(&self, line: String) {
        self.log.lock().push(line);
    }

    /// The log lines that start with `prefix`.
    pub(crate) fn calls(&self, prefix: &str) -> Vec<String> {
        self.log.lock().iter().filter(|l| l.starts_with(prefix)).cloned().collect()
    }
}

/// Work for a fake session's callback thread.
enum Job<T> {
    Deliver(T),
    /// Everything before it has been delivered: answer.
    Fence(Sender<()>),
}

/// A callback thread: delivers what it is given to `outbox`, in order.
struct CallbackThread<T: Send + 'static> {
    jobs: Option<Sender<Job<T>>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> CallbackThread<T> {
    fn start(name: &str, outbox: Arc<Outbox<T>>, threads: Arc<Mutex<HashSet<String>>>) -> Self {
        let (tx, rx): (Sender<Job<T>>, Receiver<Job<T>>) = channel();
        let name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                for job in rx {
                    match job {
                        Job::Deliver(item) => {
                            threads.lock().insert(name.clone());
                            outbox.push(item);
                        }
                        Job::Fence(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })
            .ok();
        CallbackThread { jobs: Some(tx), thread }
    }

    fn deliver(&self, item: T) {
        if let Some(tx) = &self.jobs {
            let _ = tx.send(Job::Deliver(item));
        }
    }

    /// Waits until everything given so far has been delivered.
    fn fence(&self) {
        let (tx, rx) = channel();
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Fence(tx));
            let _ = rx.recv();
        }
    }
}

impl<T: Send + 'static> Drop for CallbackThread<T> {
    /// Stops the thread after what it was given: no callback comes after the session is
    /// gone, as after `VTDecompressionSessionInvalidate`.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Layer for FakeLayer {
    fn hardware_decode_supported(&self, codec: Codec) -> bool {
        matches!(codec, Codec::H264 | Codec::Hevc)
    }

    fn encoders(&self) -> Result<Vec<EncoderInfo>, OsStatus> {
        Ok(vec![EncoderInfo {
            codec_type: u32::from_be_bytes(*b"avc1"),
            id: "com.apple.videotoolbox.videoencoder.ave.avc".into(),
            name: "Apple H.264 (HW)".into(),
            hardware: true,
        }])
    }

    fn open_decoder(
        &self,
        format: &DecodeFormat,
        outbox: Arc<Outbox<Decoded>>,
    ) -> Result<Box<dyn DecodeSession>, OsStatus> {
        self.log(format!("open_decoder {}x{} sets={}", format.width, format.height, format.parameter_sets.len()));
        if let Some(s) = self.script.lock().open_fails {
            return Err(s);
        }
        Ok(Box::new(FakeDecoder {
            layer: self.clone(),
            format: format.clone(),
            callbacks: CallbackThread::start("fake-vt-decode", outbox, self.callback_threads.clone()),
        }))
    }

    fn open_encoder(
        &self,
        setup: &EncodeSetup,
        outbox: Arc<Outbox<Encoded>>,
    ) -> Result<Box<dyn EncodeSession>, OsStatus> {
        self.log(format!("open_encoder {}x{} {}", setup.width, setup.height, setup.codec));
        if let Some(s) = self.script.lock().open_fails {
            return Err(s);
        }
        let mut session = FakeEncoder {
            layer: self.clone(),
            reorder: false,
            held: None,
            frames: 0,
            callbacks: CallbackThread::start("fake-vt-encode", outbox, self.callback_threads.clone()),
        };
        for p in &setup.properties {
            session.set(p)?;
        }
        self.log("prepare".into());
        Ok(Box::new(session))
    }
}

struct FakeDecoder {
    layer: FakeLayer,
    format: DecodeFormat,
    callbacks: CallbackThread<Decoded>,
}

impl DecodeSession for FakeDecoder {
    fn accept(&mut self, format: &DecodeFormat) -> bool {
        // As VideoToolbox: new parameter sets of the same size and depth are accepted.
        let ok =
            (format.width, format.height, format.pixels) == (self.format.width, self.format.height, self.format.pixels);
        self.layer.log(format!("accept {}x{} {ok}", format.width, format.height));
        if ok {
            self.format = format.clone();
        }
        ok
    }

    fn decode(&mut self, sample: &[u8], timing: SampleTiming, tag: u64) -> Result<(), OsStatus> {
        self.layer.log(format!("decode {tag} {} bytes", sample.len()));
        let script = self.layer.script.lock().clone();
        if let Some(s) = script.decode_call_fails.get(&tag) {
            return Err(*s);
        }
        if script.callback_missing.contains(&tag) {
            return Ok(());
        }
        let status = script.callback_status.get(&tag).copied().unwrap_or(0);
        let dropped = script.dropped.contains(&tag);
        let picture = (status == 0 && !dropped).then(|| {
            let (w, h) = (self.format.width, self.format.height);
            let bps = if self.format.pixels.ten_bit { 2 } else { 1 };
            let stride = w as usize * bps + 32;
            let mut y = vec![0u8; stride * h as usize];
            y[0] = tag as u8;
            let uv = vec![128u8; stride * (h as usize).div_ceil(2)];
            let layout = if self.format.pixels.ten_bit { Layout::P010 } else { Layout::Nv12 };
            Picture { layout, width: w, height: h, planes: vec![(y, stride), (uv, stride)] }
        });
        self.callbacks.deliver(Decoded { tag, status, dropped, picture, pts: timing.pts });
        Ok(())
    }

    fn finish(&mut self) -> Result<(), OsStatus> {
        self.layer.log("finish".into());
        self.callbacks.fence();
        Ok(())
    }
}

impl Drop for FakeDecoder {
    fn drop(&mut self) {
        self.layer.log("invalidate decoder".into());
    }
}

struct FakeEncoder {
    layer: FakeLayer,
    /// `AllowFrameReordering` was set true: frames come out two by two, swapped.
    reorder: bool,
    /// A frame held back for reordering.
    held: Option<Encoded>,
    frames: u64,
    callbacks: CallbackThread<Encoded>,
}

impl EncodeSession for FakeEncoder {
    fn set(&mut self, property: &Property) -> Result<(), OsStatus> {
        self.layer.log(format!("set {property:?}"));
        if self.layer.script.lock().refused_keys.contains(property.key()) {
            return Err(-12900);
        }
        if let Property::AllowFrameReordering(on) = property {
            self.reorder = *on;
        }
        Ok(())
    }

    fn encode(
        &mut self,
        picture: &InputPicture<'_>,
        timing: SampleTiming,
        force_keyframe: bool,
        tag: u64,
    ) -> Result<(), OsStatus> {
        self.layer.log(format!("encode {tag} key={force_keyframe}"));
        let keyframe = force_keyframe || self.frames == 0;
        self.frames += 1;
        let first = picture.planes[0].0.first().copied().unwrap_or(0);
        let script = self.layer.script.lock().clone();
        let dropped = script.dropped.contains(&tag);
        let status = script.callback_status.get(&tag).copied().unwrap_or(0);
        let sample = (status == 0 && !dropped).then(|| EncodedSample {
            data: vec![0, 0, 0, 2, 0x65, first],
            nal_length_size: 4,
            keyframe,
            timing: SampleTiming { dts: timing.pts, ..timing },
            parameter_sets: if keyframe { vec![vec![0x67, 1], vec![0x68, 2]] } else { Vec::new() },
        });
        let encoded = Encoded { tag, status, dropped, sample };
        if self.reorder && !keyframe {
            match self.held.take() {
                None => self.held = Some(encoded),
                Some(prev) => {
                    self.callbacks.deliver(encoded);
                    self.callbacks.deliver(prev);
                }
            }
        } else {
            if let Some(prev) = self.held.take() {
                self.callbacks.deliver(prev);
            }
            self.callbacks.deliver(encoded);
        }
        Ok(())
    }

    fn complete(&mut self) -> Result<(), OsStatus> {
        self.layer.log("complete".into());
        if let Some(prev) = self.held.take() {
            self.callbacks.deliver(prev);
        }
        self.callbacks.fence();
        Ok(())
    }
}

impl Drop for FakeEncoder {
    fn drop(&mut self) {
        self.layer.log("invalidate encoder".into());
    }
}
