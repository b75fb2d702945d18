//! The frame ring's tests: host and device rings (a fake GPU), waits, closing, reuse,
//! adoption, and engines writing into the ring of their thread.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::fake::FakeDevice;
use super::*;
use crate::frame::memory::DeviceLayout;
use crate::frame::output::{OutputScope, take_output_device_slot, take_output_slot};

fn frame(ring: &FrameRing, pts: i64) -> Frame {
    let pixels = ring.acquire(PixelFormat::Nv12, 16, 16, Some(Duration::from_secs(5))).unwrap();
    let mut f = Frame::host(PixelFormat::Nv12, 16, 16, pixels);
    f.pts = Some(pts);
    f
}

#[test]
fn config_is_checked() {
    assert!(FrameRing::new(0).is_err());
    assert!(FrameRing::new(MAX_CAPACITY + 1).is_err());
    assert!(FrameRing::with_config(RingConfig::new(4).slots(3)).is_err());
    assert!(FrameRing::new(1).is_ok());
}

#[test]
fn acquire_blocks_when_all_slots_are_lent_and_times_out() {
    let ring = FrameRing::with_config(RingConfig::new(1).slots(2).memory(RingMemory::Pageable)).unwrap();
    let a = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
    let _b = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
    assert!(ring.try_acquire(PixelFormat::Nv12, 16, 16).unwrap().is_none());
    let t = Instant::now();
    let e = ring.acquire(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(30))).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert!(t.elapsed() >= Duration::from_millis(30));
    drop(a);
    let c = ring.try_acquire(PixelFormat::Nv12, 16, 16).unwrap();
    assert!(c.is_some_and(|c| c.is_pooled()));
    assert_eq!(ring.stats().allocations, 2);
}

#[test]
fn push_blocks_when_full_pop_when_empty() {
    let ring = FrameRing::new(2).unwrap();
    ring.push(frame(&ring, 0), None).unwrap();
    ring.push(frame(&ring, 1), None).unwrap();
    let extra = frame(&ring, 2);
    let e = ring.push(extra, Some(Duration::from_millis(10))).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert_eq!(ring.pop(None).unwrap().unwrap().pts, Some(0));
    assert_eq!(ring.pop(None).unwrap().unwrap().pts, Some(1));
    assert!(matches!(ring.pop(Some(Duration::from_millis(5))), Err(Error::Timeout(_))));
    let s = ring.stats();
    assert_eq!((s.peak, s.depth, s.in_use, s.pushed, s.popped), (2, 0, 0, 2, 2));
    assert!(s.producer_waits >= 1 && s.consumer_waits >= 1);
}

#[test]
fn close_drains_then_ends_and_wakes_waiters() {
    let ring = FrameRing::new(4).unwrap();
    ring.push(frame(&ring, 7), None).unwrap();
    let waiter = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let first = ring.pop(None).unwrap().map(|f| f.pts);
            let second = ring.pop(None).unwrap().map(|f| f.pts);
            (first, second)
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    ring.close();
    assert_eq!(waiter.join().unwrap(), (Some(Some(7)), None));
    assert!(matches!(
        ring.push(Frame::host(PixelFormat::Nv12, 2, 2, HostFrame::new_packed(PixelFormat::Nv12, 2, 2)), None),
        Err(Error::Closed(_))
    ));
    assert!(ring.is_finished());
}

#[test]
fn cancel_wakes_a_blocked_producer_and_returns_buffers() {
    let ring = FrameRing::with_config(RingConfig::new(1).slots(1)).unwrap();
    ring.push(frame(&ring, 0), None).unwrap();
    let producer = {
        let ring = ring.clone();
        std::thread::spawn(move || ring.acquire(PixelFormat::Nv12, 16, 16, None).map(|_| ()))
    };
    std::thread::sleep(Duration::from_millis(20));
    ring.cancel();
    assert!(matches!(producer.join().unwrap(), Err(Error::Closed(_))));
    assert!(matches!(ring.pop(None), Err(Error::Closed(_))));
    assert_eq!(ring.stats().in_use, 0);
}

#[test]
fn buffers_are_reused_and_regrown_on_size_change() {
    let ring = FrameRing::with_config(RingConfig::new(2).memory(RingMemory::Pageable)).unwrap();
    for i in 0..100 {
        ring.push(frame(&ring, i), None).unwrap();
        drop(ring.pop(None).unwrap());
    }
    assert_eq!(ring.stats().allocations, 1);
    let big = ring.acquire(PixelFormat::Nv12, 64, 64, None).unwrap();
    assert_eq!(big.as_bytes().len(), PixelFormat::Nv12.frame_size(64, 64));
    drop(big);
    assert_eq!(ring.stats().allocations, 2);
    let small = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
    assert_eq!(small.as_bytes().len(), PixelFormat::Nv12.frame_size(16, 16));
    assert_eq!(ring.stats().allocations, 2);
}

#[test]
fn output_scope_routes_engine_frames_into_the_ring() {
    let ring = FrameRing::new(2).unwrap();
    assert!(take_output_slot(PixelFormat::Yuv420p, 8, 8).is_none());
    {
        let _scope = OutputScope::enter(ring.frame_slots());
        let f = HostFrame::for_output(PixelFormat::Yuv420p, 8, 8);
        assert!(f.is_pooled());
        assert_eq!(f.planes().len(), 3);
    }
    assert!(!HostFrame::for_output(PixelFormat::Yuv420p, 8, 8).is_pooled());
}

#[test]
fn pooled_frames_clone_into_owned_ones() {
    let ring = FrameRing::new(1).unwrap();
    let mut a = ring.acquire(PixelFormat::Yuv420p, 4, 2, None).unwrap();
    a.as_bytes_mut().fill(9);
    let b = a.clone();
    assert!(a.is_pooled() && !b.is_pooled());
    assert_eq!(a, b);
    assert_eq!(a.into_buffer(), vec![9; 12]);
    assert_eq!(ring.stats().in_use, 0);
}

// -----------------------------------------------------------------------------------
// Device-memory rings, on the fake device of `fake`

fn device_ring(fake: &Arc<FakeDevice>, config: RingConfig) -> FrameRing {
    FrameRing::with_allocator(config, fake.clone()).unwrap()
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    (0..len).map(|i| ((i as u64 * 7 + seed * 13) % 251) as u8).collect()
}

#[test]
fn device_slots_are_cuda_frames_with_planes_one_under_the_other() {
    let fake = FakeDevice::new(3);
    let ring = device_ring(&fake, RingConfig::new(2));
    assert_eq!(ring.memory(), RingMemory::Cuda { device: 3 });
    let frame = ring.acquire_cuda(PixelFormat::Nv12, 33, 17, None).unwrap();
    assert_eq!((frame.format, frame.width, frame.height, frame.pts), (PixelFormat::Nv12, 33, 17, None));
    let c = frame.cuda_data().expect("device memory");
    assert!(c.is_pooled());
    assert_eq!((c.device_index(), c.format(), c.size()), (3, PixelFormat::Nv12, (33, 17)));
    // Rows of 34 bytes (chroma of an odd width) padded to the fake's 64-byte pitch.
    assert_eq!(c.pitch(), 64);
    assert_eq!(c.plane_ptr(1).unwrap() - c.plane_ptr(0).unwrap(), 64 * 17);
    assert_eq!(c.plane_ptr(2), None);
    let pixels = pattern(PixelFormat::Nv12.frame_size(33, 17), 1);
    fake.fill(c, &pixels);
    assert_eq!(c.download().unwrap().as_bytes(), &pixels[..]);
    assert_eq!(frame.to_host().unwrap().as_bytes(), &pixels[..]);
    let s = ring.stats();
    assert_eq!((s.device, s.pinned, s.in_use, s.allocations), (Some(3), false, 1, 1));
    drop(frame);
    assert_eq!(ring.stats().in_use, 0);
}

#[test]
fn device_slots_are_reused_and_regrown_once_on_size_change() {
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(2));
    let first = ring.acquire_cuda(PixelFormat::Nv12, 64, 32, None).unwrap().cuda_data().unwrap().plane_ptr(0);
    for _ in 0..100 {
        let f = ring.acquire_cuda(PixelFormat::Nv12, 64, 32, None).unwrap();
        assert_eq!(f.cuda_data().unwrap().plane_ptr(0), first, "the same buffer again");
        ring.push(f, None).unwrap();
        drop(ring.pop(None).unwrap());
    }
    assert_eq!((ring.stats().allocations, fake.allocs.load(Ordering::SeqCst)), (1, 1));
    let big = ring.acquire_cuda(PixelFormat::P010, 128, 64, None).unwrap();
    assert_eq!(big.cuda_data().unwrap().pitch(), 256);
    drop(big);
    assert_eq!(ring.stats().allocations, 2, "outgrown: replaced once");
    // Smaller pictures and other formats fit the grown buffer.
    for format in [PixelFormat::Nv12, PixelFormat::Yuv420p, PixelFormat::RgbPlanar, PixelFormat::Bgra] {
        let f = ring.acquire_cuda(format, 64, 32, None).unwrap();
        let c = f.cuda_data().unwrap();
        assert_eq!(c.format(), format);
        let pixels = pattern(format.frame_size(64, 32), 5);
        fake.fill(c, &pixels);
        assert_eq!(c.download().unwrap().as_bytes(), &pixels[..], "{format}");
    }
    assert_eq!((ring.stats().allocations, fake.allocs.load(Ordering::SeqCst)), (2, 2));
}

#[test]
fn device_acquire_blocks_times_out_and_wakes_on_cancel() {
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(1).slots(2));
    let a = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, None).unwrap();
    let _b = ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16).unwrap().expect("a second slot");
    assert!(ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16).unwrap().is_none());
    let t = Instant::now();
    let e = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(30))).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert!(t.elapsed() >= Duration::from_millis(30));
    // A waiting producer gets the slot a consumer gives back.
    let waiter = {
        let ring = ring.clone();
        std::thread::spawn(move || ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_secs(5))))
    };
    std::thread::sleep(Duration::from_millis(20));
    drop(a);
    let _c = waiter.join().unwrap().unwrap();
    // And a cancel wakes one at once.
    let blocked = {
        let ring = ring.clone();
        std::thread::spawn(move || ring.acquire_cuda(PixelFormat::Nv12, 16, 16, None).map(|_| ()))
    };
    // Cancelled once it waits (its wait counted): a fixed sleep lost that race on a loaded
    // machine, and the cancel then came before the wait.
    let waiting = Instant::now();
    while ring.stats().producer_waits < 3 && waiting.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    ring.cancel();
    assert!(matches!(blocked.join().unwrap(), Err(Error::Closed(_))));
    assert!(matches!(ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16), Err(Error::Closed(_))));
    let s = ring.stats();
    assert!(s.producer_waits >= 3, "{s:?}");
    assert_eq!((s.allocations, s.in_use), (2, 2));
}

#[test]
fn device_and_host_rings_refuse_each_others_acquire() {
    let fake = FakeDevice::new(0);
    let device = device_ring(&fake, RingConfig::new(1));
    assert!(matches!(device.acquire(PixelFormat::Nv12, 16, 16, None), Err(Error::InvalidInput(_))));
    assert!(matches!(device.try_acquire(PixelFormat::Nv12, 16, 16), Err(Error::InvalidInput(_))));
    assert!(matches!(device.acquire_cuda(PixelFormat::Nv12, 0, 16, None), Err(Error::InvalidInput(_))));
    let host = FrameRing::with_config(RingConfig::new(1).memory(RingMemory::Pageable)).unwrap();
    assert!(matches!(host.acquire_cuda(PixelFormat::Nv12, 16, 16, None), Err(Error::InvalidInput(_))));
    assert!(host.frame_slots().lease_device(0, 16, 24).is_none());
    assert_eq!(host.stats().device, None);
    assert_eq!(fake.allocs.load(Ordering::SeqCst), 0);
}

#[test]
fn a_failed_device_allocation_is_an_error_and_frees_the_slot() {
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(1).slots(1));
    fake.fail.store(true, Ordering::SeqCst);
    let e = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(10))).unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e}");
    assert_eq!((ring.stats().in_use, ring.stats().allocations), (0, 0));
    fake.fail.store(false, Ordering::SeqCst);
    assert!(ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(10))).is_ok());
    assert_eq!(ring.stats().allocations, 1);
}

#[test]
fn cuda_rings_without_a_driver_or_gpu_are_unsupported() {
    let e = FrameRing::with_config(RingConfig::new(2).memory(RingMemory::Cuda { device: 999 })).unwrap_err();
    match e {
        Error::Unsupported { what, why } => {
            assert!(what.contains("GPU 999"), "{what}");
            assert!(!why.is_empty());
        }
        e => panic!("{e}"),
    }
    // Bad sizes are refused before any driver is asked.
    assert!(matches!(
        FrameRing::with_config(RingConfig::new(0).memory(RingMemory::Cuda { device: 0 })),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn device_ring_producer_consumer_stress_loses_nothing() {
    const FRAMES: i64 = 400;
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(3).slots(4));
    let (w, h) = (24, 10);
    let bytes = PixelFormat::Nv12.frame_size(w, h);
    let consumer = {
        let (ring, fake) = (ring.clone(), fake.clone());
        std::thread::spawn(move || {
            let mut next = 0;
            while let Some(frame) = ring.pop(Some(Duration::from_secs(10))).unwrap() {
                let pts = frame.pts.unwrap();
                assert_eq!(pts, next, "in order, none lost or repeated");
                let c = frame.cuda_data().unwrap();
                assert!(c.is_pooled());
                assert_eq!(fake.read(c), pattern(bytes, pts as u64), "frame {pts} intact");
                if pts % 7 == 0 {
                    std::thread::sleep(Duration::from_micros(200)); // a slow consumer now and then
                }
                next += 1;
            }
            next
        })
    };
    for i in 0..FRAMES {
        let mut frame = ring.acquire_cuda(PixelFormat::Nv12, w, h, Some(Duration::from_secs(10))).unwrap();
        fake.fill(frame.cuda_data().unwrap(), &pattern(bytes, i as u64));
        frame.pts = Some(i);
        ring.push(frame, Some(Duration::from_secs(10))).unwrap();
    }
    ring.close();
    assert_eq!(consumer.join().unwrap(), FRAMES);
    let s = ring.stats();
    assert_eq!((s.pushed, s.popped, s.in_use, s.depth), (FRAMES as u64, FRAMES as u64, 0, 0));
    assert!(s.allocations <= s.slots as u64 && s.peak <= 3, "{s:?}");
    assert_eq!(fake.allocs.load(Ordering::SeqCst) as u64, s.allocations);
}

#[test]
fn adopt_copies_loose_cuda_frames_into_slots() {
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(1).slots(2));
    let (w, h) = (20, 8);
    let pixels = pattern(PixelFormat::Nv12.frame_size(w, h), 9);
    let loose = fake.loose_frame(PixelFormat::Nv12, w, h);
    fake.fill(&loose, &pixels);
    let mut frame = Frame::device(PixelFormat::Nv12, w, h, loose);
    (frame.pts, frame.keyframe) = (Some(42), true);
    let adopted = ring.adopt(frame, None).unwrap();
    assert_eq!((adopted.pts, adopted.keyframe, adopted.width), (Some(42), true, w));
    let c = adopted.cuda_data().unwrap();
    assert!(c.is_pooled());
    assert_eq!(fake.read(c), pixels);
    assert_eq!((ring.stats().adopted, fake.copies.load(Ordering::SeqCst)), (1, 1));
    // A frame already in a slot of this ring, and host frames, pass as they are.
    let ptr = c.plane_ptr(0);
    let again = ring.adopt(adopted, None).unwrap();
    assert_eq!(again.cuda_data().unwrap().plane_ptr(0), ptr);
    let host = Frame::host(PixelFormat::Nv12, 2, 2, HostFrame::new_packed(PixelFormat::Nv12, 2, 2));
    assert!(ring.adopt(host, None).unwrap().host_data().is_some());
    // So do CUDA frames of another GPU.
    let other = FakeDevice::new(1);
    let far = Frame::device(PixelFormat::Nv12, w, h, other.loose_frame(PixelFormat::Nv12, w, h));
    assert!(!ring.adopt(far, None).unwrap().cuda_data().unwrap().is_pooled());
    assert_eq!(ring.stats().adopted, 1);
    // With every slot held, adopting waits (here: times out), and a cancel ends it.
    let _held = ring.acquire_cuda(PixelFormat::Nv12, w, h, None).unwrap();
    let loose = Frame::device(PixelFormat::Nv12, w, h, fake.loose_frame(PixelFormat::Nv12, w, h));
    let e = ring.adopt(loose, Some(Duration::from_millis(20))).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    let blocked = {
        let (ring, fake) = (ring.clone(), fake.clone());
        std::thread::spawn(move || {
            let loose = Frame::device(PixelFormat::Nv12, w, h, fake.loose_frame(PixelFormat::Nv12, w, h));
            ring.adopt(loose, None).map(|_| ())
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    ring.cancel();
    assert!(matches!(blocked.join().unwrap(), Err(Error::Closed(_))));
    drop(again);
    assert!(ring.stats().allocations <= 2);
}

#[test]
fn engines_take_device_slots_of_their_threads_ring_without_waiting() {
    let fake = FakeDevice::new(2);
    let ring = device_ring(&fake, RingConfig::new(1).slots(1));
    assert!(take_output_device_slot(2, 64, 48).is_none(), "no output ring on this thread");
    let _scope = OutputScope::enter(ring.frame_slots());
    assert!(take_output_slot(PixelFormat::Nv12, 8, 8).is_none(), "no host slots in a device ring");
    assert!(take_output_device_slot(0, 64, 48).is_none(), "another GPU");
    let slot = take_output_device_slot(2, 64, 48).expect("a free slot");
    assert!(slot.memory().is_some_and(|b| b.width_bytes >= 64 && b.rows >= 48));
    assert!(take_output_device_slot(2, 64, 48).is_none(), "every slot lent: no wait");
    drop(slot);
    assert!(take_output_device_slot(2, 32, 24).is_some());
    assert_eq!(ring.stats().allocations, 1);
}

#[test]
fn host_pictures_upload_into_device_slots() {
    let fake = FakeDevice::new(0);
    let ring = device_ring(&fake, RingConfig::new(1));
    let (w, h) = (6, 4);
    // A strided YUV420P picture: 2 bytes of padding after every row.
    let mut planes = Vec::new();
    let mut buffer = Vec::new();
    for i in 0..3 {
        let (row_bytes, rows) = PixelFormat::Yuv420p.plane_size(i, w, h);
        planes.push(crate::frame::PlaneLayout { offset: buffer.len(), stride: row_bytes + 2, row_bytes, rows });
        for r in 0..rows {
            buffer.extend((0..row_bytes).map(|x| (i * 50 + r * 10 + x) as u8));
            buffer.extend([0xee, 0xee]);
        }
    }
    let host = HostFrame::from_planes(buffer, planes).unwrap();
    let mut packed = Vec::new();
    host.write_packed(&mut packed);
    let mut frame = ring.acquire_cuda(PixelFormat::Yuv420p, w, h, None).unwrap();
    frame.cuda_data_mut().unwrap().upload(&host).unwrap();
    assert_eq!(frame.to_host().unwrap().as_bytes(), &packed[..]);
    // Planes of another size or format are refused.
    let wrong = HostFrame::new_packed(PixelFormat::Nv12, w, h);
    let e = frame.cuda_data_mut().unwrap().upload(&wrong).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

#[test]
fn device_layouts_stack_planes() {
    let l = DeviceLayout::of(PixelFormat::Nv12, 33, 17);
    assert_eq!((l.width_bytes, l.rows, l.plane_rows, l.planes), (34, 17 + 9, [0, 17, 0], 2));
    let l = DeviceLayout::of(PixelFormat::P010, 32, 16);
    assert_eq!((l.width_bytes, l.rows, l.plane_rows), (64, 24, [0, 16, 0]));
    let l = DeviceLayout::of(PixelFormat::RgbPlanar, 10, 4);
    assert_eq!((l.width_bytes, l.rows, l.plane_rows, l.planes), (10, 12, [0, 4, 8], 3));
    let l = DeviceLayout::of(PixelFormat::Yuv420p, 10, 5);
    assert_eq!((l.width_bytes, l.rows, l.plane_rows), (10, 5 + 3 + 3, [0, 5, 8]));
    let l = DeviceLayout::of(PixelFormat::Bgra, 10, 4);
    assert_eq!((l.width_bytes, l.rows, l.planes), (40, 4, 1));
}

/// A waker that counts its wakes.
struct CountingWaker(std::sync::atomic::AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, std::task::Waker) {
    let counter = Arc::new(CountingWaker(std::sync::atomic::AtomicUsize::new(0)));
    (counter.clone(), std::task::Waker::from(counter))
}

#[test]
fn a_waiting_producer_task_is_woken_once_the_queue_has_drained_to_half() {
    use std::task::Context;
    let q = Queue::new("q", 8);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    for i in 0..8 {
        assert!(q.poll_push_ready(&mut cx).is_ready());
        q.push_now(i).unwrap();
    }
    assert!(q.poll_push_ready(&mut cx).is_pending());
    // Polled again while waiting: registered once.
    assert!(q.poll_push_ready(&mut cx).is_pending());
    for want in 0..3 {
        assert_eq!(q.pop(None).unwrap(), Some(want));
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "woken with {} queued", 7 - want);
    }
    assert_eq!(q.pop(None).unwrap(), Some(3));
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken once at half");
    assert!(q.poll_push_ready(&mut cx).is_ready());
    assert_eq!(q.stats().producer_waits, 1);
}

#[test]
fn a_waiting_consumer_task_is_woken_by_a_push_and_by_the_end() {
    use std::task::{Context, Poll};
    let q = Queue::new("q", 2);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(q.poll_pop(&mut cx).is_pending());
    q.push(7, None).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(q.poll_pop(&mut cx), Poll::Ready(Ok(Some(7)))));
    assert!(q.poll_pop(&mut cx).is_pending());
    q.close();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert!(matches!(q.poll_pop(&mut cx), Poll::Ready(Ok(None))));
    // A closed queue refuses a task's push at once.
    assert!(matches!(q.poll_push_ready(&mut cx), Poll::Ready(Err(Error::Closed(_)))));
    assert!(q.push_now(8).is_err());
}

#[test]
fn cancelling_wakes_a_waiting_producer_task_with_an_error() {
    use std::task::{Context, Poll};
    let q = Queue::new("q", 1);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    q.push_now(1).unwrap();
    assert!(q.poll_push_ready(&mut cx).is_pending());
    drop(q.cancel());
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(q.poll_push_ready(&mut cx), Poll::Ready(Err(Error::Closed(_)))));
    assert!(matches!(q.poll_pop(&mut cx), Poll::Ready(Err(Error::Closed(_)))));
}

#[test]
fn quiet_pushes_wake_a_waiting_consumer_at_half_full_or_when_told() {
    use std::task::{Context, Poll};
    let q = Queue::new("q", 8);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(q.poll_pop(&mut cx).is_pending());
    for i in 0..3 {
        q.push_quiet(i, None).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "woken with {} queued", i + 1);
    }
    q.push_quiet(3, None).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken at half full");
    for want in 0..4 {
        assert!(matches!(q.poll_pop(&mut cx), Poll::Ready(Ok(Some(v))) if v == want));
    }
    // Held back, then announced by the producer.
    assert!(q.poll_pop(&mut cx).is_pending());
    q.push_quiet(4, None).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    q.wake_consumers();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert!(matches!(q.poll_pop(&mut cx), Poll::Ready(Ok(Some(4)))));
    // Nothing queued: nothing to announce.
    assert!(q.poll_pop(&mut cx).is_pending());
    q.wake_consumers();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    // A plain push wakes at once.
    q.push(5, None).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 3);
}

#[test]
fn a_quiet_push_into_a_full_queue_wakes_the_consumer_thread_it_waits_for() {
    // A consumer thread that sleeps on an empty queue is woken by the quiet push that makes
    // it half full (the first item is held back), so a producer that outruns it and waits
    // for room never waits for a consumer that sleeps: everything arrives, in order.
    let q = Arc::new(Queue::new("q", 4));
    let consumer = {
        let q = q.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(v) = q.pop(None).unwrap() {
                got.push(v);
                // Slow enough that the producer fills the queue.
                std::thread::sleep(Duration::from_millis(2));
            }
            got
        })
    };
    for i in 0..20 {
        q.push_quiet(i, Some(Duration::from_secs(10))).unwrap();
    }
    q.wake_consumers();
    q.close();
    assert_eq!(consumer.join().unwrap(), (0..20).collect::<Vec<_>>());
}

#[test]
fn the_coalescer_pushes_quietly_only_with_more_input_queued_and_wakes_before_waiting_for_input() {
    use super::Coalescer;
    use std::task::Context;
    let input = Queue::new("in", 8);
    let output = Queue::new("out", 8);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(output.poll_pop(&mut cx).is_pending());
    let mut c = Coalescer::with_hold(Duration::from_secs(60));
    // No input queued: output must be pushed plainly.
    c.started();
    assert!(!c.quiet(Some(&input)));
    // Input queued and a quick item: quiet.
    input.push(1, None).unwrap();
    c.started();
    assert!(c.quiet(Some(&input)));
    output.push_quiet(10, None).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    // The next input is there: taking it does not wait, so nothing is announced yet.
    c.before_input(Some(&input), &output);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    assert_eq!(input.pop(None).unwrap(), Some(1));
    // The input is empty now: before waiting for more, the held output is announced.
    c.before_input(Some(&input), &output);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    // An iterator source may block anywhere: never quiet.
    input.push(2, None).unwrap();
    assert!(!c.quiet(None::<&Queue<i32>>));
}

#[test]
fn the_coalescer_holds_output_back_for_its_hold_at_most() {
    use super::Coalescer;
    use std::task::Context;
    let input = Queue::new("in", 8);
    input.push(1, None).unwrap();
    // An input slower than the hold: announced at once.
    let mut c = Coalescer::with_hold(Duration::from_millis(1));
    c.started();
    std::thread::sleep(Duration::from_millis(2));
    assert!(!c.quiet(Some(&input)));
    // Quick inputs: quiet, until the first held output has waited the hold.
    let mut c = Coalescer::with_hold(Duration::from_millis(200));
    c.started();
    assert!(c.quiet(Some(&input)));
    c.started();
    assert!(c.quiet(Some(&input)));
    std::thread::sleep(Duration::from_millis(250));
    c.started();
    assert!(!c.quiet(Some(&input)), "the first output was held back over the hold");
    // That push woke the consumers: holding may start again.
    c.started();
    assert!(c.quiet(Some(&input)));
    // Output held back is announced once it has waited the hold, even with input queued
    // (inputs that give no output must not keep it back).
    let output = Queue::new("out", 8);
    let (count, waker) = counting_waker();
    assert!(output.poll_pop(&mut Context::from_waker(&waker)).is_pending());
    output.push_quiet(10, None).unwrap();
    c.before_input(Some(&input), &output);
    assert_eq!(count.0.load(Ordering::SeqCst), 0, "held, not overdue yet");
    std::thread::sleep(Duration::from_millis(250));
    c.before_input(Some(&input), &output);
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "overdue: announced");
}
