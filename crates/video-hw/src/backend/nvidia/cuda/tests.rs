use super::super::sys::cuda::CUDA_SUCCESS;
use super::super::sys::cuda_ext::*;
use super::*;
use crate::Error;

#[test]
fn the_copy_nap_settles_just_under_the_work_time() {
    use std::time::Duration;
    // Work that takes 70 µs: the nap grows while too short, shrinks once long enough.
    let mut nap = Duration::ZERO;
    let mut naps = Vec::new();
    for _ in 0..60 {
        nap = next_nap(nap, nap >= Duration::from_micros(70));
        naps.push(nap);
    }
    let settled = &naps[40..];
    assert!(settled.iter().all(|n| *n >= Duration::from_micros(55) && *n <= Duration::from_micros(90)), "{settled:?}");
    assert_eq!(next_nap(Duration::from_secs(1), false), Duration::from_millis(2), "capped");
}

#[test]
fn classification() {
    assert_eq!(classify(CUDA_ERROR_OUT_OF_MEMORY), Class::Backend);
    for c in [CUDA_ERROR_ECC_UNCORRECTABLE, CUDA_ERROR_LAUNCH_FAILED, CUDA_ERROR_ILLEGAL_ADDRESS] {
        assert_eq!(classify(c), Class::DeviceLost, "{c}");
    }
    for c in [CUDA_ERROR_NO_DEVICE, CUDA_ERROR_NOT_FOUND] {
        assert_eq!(classify(c), Class::Unsupported, "{c}");
    }
    assert_eq!(classify(CUDA_ERROR_INVALID_VALUE), Class::Backend);
}

#[test]
fn check_maps_errors() {
    assert!(check(CUDA_SUCCESS, "x").is_ok());
    match check(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc").unwrap_err() {
        Error::Backend { engine, code, message } => {
            assert_eq!(engine, "cuda");
            assert_eq!(code, "CUDA_ERROR_OUT_OF_MEMORY");
            assert!(message.starts_with("cuMemAlloc"), "{message}");
        }
        e => panic!("{e}"),
    }
    assert!(matches!(check(CUDA_ERROR_ECC_UNCORRECTABLE, "x"), Err(Error::DeviceLost(m)) if m.contains("ECC")));
    match check(CUDA_ERROR_NO_DEVICE, "cuInit").unwrap_err() {
        Error::Unsupported { what, why } => {
            assert_eq!(what, "cuda");
            assert!(why.contains("CUDA_ERROR_NO_DEVICE"), "{why}");
        }
        e => panic!("{e}"),
    }
    match check_cuvid(CUDA_ERROR_INVALID_VALUE, "cuvidCreateDecoder").unwrap_err() {
        Error::Backend { engine, code, .. } => {
            assert_eq!(engine, "nvdec");
            assert_eq!(code, "CUDA_ERROR_INVALID_VALUE");
        }
        e => panic!("{e}"),
    }
    assert!(
        matches!(check_cuvid(CUDA_ERROR_NOT_SUPPORTED, "caps"), Err(Error::Unsupported { what, .. }) if what == "nvdec")
    );
}

#[test]
fn unknown_codes_get_a_name() {
    let name = error_name(123_456);
    assert!(name == "CUresult(123456)" || name.starts_with("CUDA_ERROR"), "{name}");
}

#[test]
fn code_names_are_unique() {
    for (i, (c, n)) in CODE_NAMES.iter().enumerate() {
        assert!(CODE_NAMES[i + 1..].iter().all(|(c2, _)| c2 != c), "{n} listed twice");
    }
}

#[test]
fn driver_version_decoding() {
    assert_eq!(DriverVersion::from_raw(12040), DriverVersion { major: 12, minor: 4 });
    assert_eq!(DriverVersion::from_raw(11010).to_string(), "11.1");
}

#[test]
fn copy_bounds_are_checked() {
    let src = DeviceRegion { ptr: 0x1000, pitch: 512, width_bytes: 100, height: 4 };
    let mut dst = vec![0u8; 3 * 128 + 100];
    assert!(copy_desc(src, &mut dst, 128).is_ok());
    assert!(copy_desc(src, &mut dst[1..], 128).is_err());
    assert!(copy_desc(src, &mut dst, 64).is_err());
    let wide = DeviceRegion { width_bytes: 600, ..src };
    assert!(copy_desc(wide, &mut dst, 1024).is_err());
    let empty = DeviceRegion { height: 0, ..src };
    assert!(copy_desc(empty, &mut [], 128).is_ok());
}

#[test]
fn driver_fails_softly_or_loads() {
    match CudaDriver::get() {
        Ok(d) => {
            let v = d.version().expect("cuDriverGetVersion");
            assert!(v.major >= 10, "{v}");
        }
        Err(Error::Unsupported { .. }) => {}
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

/// Exercises context, memory, copies, streams and events on GPU 0 when a driver
/// is present; returns at once otherwise.
#[test]
fn gpu_smoke_when_available() {
    let Ok(driver) = CudaDriver::get() else { return };
    if driver.device_count().unwrap_or(0) == 0 {
        return;
    }
    let device = driver.device(0).expect("cuDeviceGet");
    let ctx = device.primary_context().expect("primary context");
    let info = ctx.mem_info().expect("mem_info");
    assert!(info.free > 0 && info.free <= info.total, "{info:?}");

    let (width, height) = (100usize, 7usize);
    let buf = DeviceBuffer::alloc_pitched(&ctx, width, height, crate::gpu_memory::MemoryUse::Staging)
        .expect("cuMemAllocPitch");
    assert!(buf.pitch() >= width);
    let pattern: Vec<u8> = (0..buf.pitch() * height).map(|i| (i % 251) as u8).collect();
    {
        let _current = ctx.push().expect("push");
        // SAFETY: `buf` holds `pitch * height` bytes, exactly `pattern.len()`.
        let r = unsafe { (driver.api().cuMemcpyHtoD_v2)(buf.ptr(), pattern.as_ptr().cast(), pattern.len()) };
        check(r, "cuMemcpyHtoD").expect("upload");
    }
    let expected: Vec<u8> = (0..height).flat_map(|y| pattern[y * buf.pitch()..][..width].to_vec()).collect();

    let mut host = vec![0u8; width * height];
    buf.copy_to_host(&mut host, width).expect("cuMemcpy2D");
    assert_eq!(host, expected);

    let stream = Stream::new(&ctx).expect("stream");
    let event = Event::new(&ctx).expect("event");
    let mut pinned = PinnedHostBuffer::new(&ctx, width * height + 3).expect("pinned");
    // SAFETY: `pinned` is not touched until the stream is synchronised below.
    unsafe { stream.copy_to_host_async(buf.region(), &mut pinned, 3, width) }.expect("cuMemcpy2DAsync");
    event.record(&stream).expect("record");
    stream.wait_event(&event).expect("wait_event");
    event.synchronize().expect("event sync");
    assert!(event.is_complete().expect("query"));
    stream.synchronize().expect("stream sync");
    assert_eq!(&pinned.as_slice()[3..], &expected[..]);
    ctx.synchronize().expect("ctx sync");
    eprintln!("GPU 0 {}: {info:?}, pitch {}", device.name().unwrap_or_default(), buf.pitch());
}
