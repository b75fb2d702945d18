//! `Array`: pixels in host or GPU memory, lent without copying to NumPy, PyTorch, CuPy and
//! anything else that speaks DLPack (`__dlpack__`, `__dlpack_device__`) or the array
//! interfaces (`__array_interface__` in host memory, `__cuda_array_interface__` on the
//! GPU). The memory stays alive as long as any consumer holds it: every export keeps a
//! reference to the buffer's owner.
//!
//! GPU frames are complete when the library hands them out (the decoder waited for the
//! copy or the post-processing that made them), so an export needs no synchronisation on
//! the consumer's stream; `__cuda_array_interface__` says so with `stream: None`.

use std::ffi::c_void;
use std::sync::Arc;

use dlpark::ffi::{DLDataType, DLDevice, DLManagedTensor, DLManagedTensorVersioned};
use dlpark::metadata::Dynamic;
use dlpark::python::producer::{DlpackExporter, ExportRequest, export_dlpack};
use dlpark::{DlpackFlags, Managed, ManagedTensorBase};
use pyo3::exceptions::{PyAttributeError, PyBufferError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use video_hw::SampleType;

/// What keeps an array's memory alive.
#[derive(Clone)]
pub enum Owner {
    /// A decoded frame (its own buffer, host or device).
    Frame(Arc<video_hw::Frame>),
    /// Host bytes this module allocated (a frame repacked or converted).
    Bytes(Arc<Box<[u8]>>),
    /// Host memory from the library's buffer pool (a batch), back to the pool when the
    /// last consumer lets go of it.
    Pooled(Arc<video_hw::HostBuffer>),
    /// Device memory this module allocated (a batch on the GPU).
    Device(Arc<video_hw::device_array::DeviceArray>),
    /// Float samples the library decoded (audio), handed over without a copy.
    Floats(Arc<Vec<f32>>),
}

/// Where an array's memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Host memory.
    Cpu,
    /// CUDA device memory of GPU `n`.
    Cuda(u32),
}

/// An n-dimensional array (uint8; uint16 for 10-bit pictures; float16 or float32 from a
/// transform) over memory the library owns.
#[pyclass(frozen, module = "video_hw._video_hw")]
pub struct Array {
    owner: Owner,
    ptr: u64,
    shape: Vec<i64>,
    /// In elements.
    strides: Vec<i64>,
    /// The element type.
    elem: SampleType,
    place: Place,
}

impl Array {
    /// An array of `elem` elements at `ptr` with `shape` and `strides` (in elements)
    /// whose memory `owner` keeps alive.
    pub fn new(owner: Owner, ptr: u64, shape: Vec<i64>, strides: Vec<i64>, elem: SampleType, place: Place) -> Array {
        Array { owner, ptr, shape, strides, elem, place }
    }

    /// The same memory without its first dimension (a batch of one as one frame).
    /// Where the memory is.
    pub fn place(&self) -> Place {
        self.place
    }

    pub fn squeeze_first(self) -> Array {
        let (shape, strides) = (self.shape[1..].to_vec(), self.strides[1..].to_vec());
        Array { shape, strides, ..self }
    }

    /// A compact row-major array over all of `bytes` (host memory).
    pub fn from_bytes(bytes: Box<[u8]>, shape: Vec<i64>, elem: SampleType) -> Array {
        let strides = compact_strides(&shape);
        let ptr = bytes.as_ptr() as u64;
        Array::new(Owner::Bytes(Arc::new(bytes)), ptr, shape, strides, elem, Place::Cpu)
    }

    /// A compact row-major array over all of `buffer` (host memory from the pool).
    pub fn from_pooled(buffer: video_hw::HostBuffer, shape: Vec<i64>, elem: SampleType) -> Array {
        let strides = compact_strides(&shape);
        let ptr = buffer.as_slice().as_ptr() as u64;
        Array::new(Owner::Pooled(Arc::new(buffer)), ptr, shape, strides, elem, Place::Cpu)
    }

    /// A compact row-major float32 array over all of `data` (host memory, no copy).
    pub fn from_f32(data: Vec<f32>, shape: Vec<i64>) -> Array {
        let strides = compact_strides(&shape);
        let ptr = data.as_ptr() as u64;
        Array::new(Owner::Floats(Arc::new(data)), ptr, shape, strides, SampleType::F32, Place::Cpu)
    }

    /// Bytes per element.
    fn item(&self) -> i64 {
        self.elem.size() as i64
    }

    fn dl_dtype(&self) -> DLDataType {
        match self.elem {
            SampleType::U8 => DLDataType::U8,
            SampleType::U16 => DLDataType::U16,
            SampleType::F16 => DLDataType::F16,
            SampleType::F32 => DLDataType::F32,
        }
    }

    fn dl_device(&self) -> DLDevice {
        match self.place {
            Place::Cpu => DLDevice::CPU,
            Place::Cuda(n) => DLDevice::cuda(n as i32),
        }
    }

    fn typestr(&self) -> &'static str {
        match self.elem {
            SampleType::U8 => "|u1",
            SampleType::U16 => "<u2",
            // The library writes floats in native order; the machines it runs on are
            // little-endian.
            SampleType::F16 => "<f2",
            SampleType::F32 => "<f4",
        }
    }

    fn byte_strides(&self) -> Vec<i64> {
        self.strides.iter().map(|s| s * self.item()).collect()
    }

    /// A DLPack managed tensor over the array, owning a reference to its memory.
    fn managed<M: ManagedTensorBase>(&self) -> PyResult<Managed<M>> {
        let context = Box::new(self.owner.clone());
        let mut init = Dynamic::new(self.shape.clone(), self.strides.clone())
            .initialize_as::<M>(context)
            .map_err(|e| PyBufferError::new_err(format!("DLPack export: {e}")))?;
        init.set_data(self.ptr as *mut c_void);
        init.set_dtype(self.dl_dtype());
        init.set_device(self.dl_device());
        // SAFETY: data, dtype, device, shape and strides describe memory that `context`
        // (stored in the tensor) keeps alive until the consumer's deleter runs.
        Ok(unsafe { init.finish() })
    }

    /// The array's bytes, row by row (host arrays only).
    pub(crate) fn host_bytes(&self) -> PyResult<Vec<u8>> {
        if self.place != Place::Cpu {
            return Err(PyBufferError::new_err("the array is in GPU memory; copy it with the consumer's API"));
        }
        let total: i64 = self.shape.iter().product::<i64>() * self.item();
        let mut out = Vec::with_capacity(total.max(0) as usize);
        let item = self.elem.size();
        // Walk every element in row-major order (the arrays here are at most 4-D).
        let n = self.shape.len();
        let mut idx = vec![0i64; n];
        if self.shape.contains(&0) {
            return Ok(out);
        }
        loop {
            let off: i64 = idx.iter().zip(&self.strides).map(|(i, s)| i * s).sum::<i64>() * self.item();
            // SAFETY: the offset lies inside the owner's memory (shape and strides were
            // built from its layout) and the owner is alive while `self` is.
            let px = unsafe { std::slice::from_raw_parts((self.ptr as i64 + off) as *const u8, item) };
            out.extend_from_slice(px);
            let mut d = n;
            loop {
                if d == 0 {
                    return Ok(out);
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}

/// Row-major strides (in elements) of a compact array of `shape`.
pub fn compact_strides(shape: &[i64]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}

impl DlpackExporter for Array {
    fn device(&self) -> DLDevice {
        self.dl_device()
    }

    fn flags(&self) -> DlpackFlags {
        DlpackFlags::empty()
    }

    fn prepare_export(&self, _py: Python<'_>, _request: &ExportRequest<'_>) -> PyResult<()> {
        // Complete when handed out (see the module docs): nothing to wait for.
        Ok(())
    }

    fn export_legacy(&self, _py: Python<'_>) -> PyResult<Managed<DLManagedTensor>> {
        self.managed()
    }

    fn export_versioned(&self, _py: Python<'_>) -> PyResult<Managed<DLManagedTensorVersioned>> {
        self.managed()
    }
}

#[pymethods]
impl Array {
    /// The array's shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.shape)
    }

    /// Strides in bytes.
    #[getter]
    fn strides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.byte_strides())
    }

    /// `"uint8"`, or `"uint16"` for 10-bit pictures.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.elem.name()
    }

    /// `"cpu"` or `"cuda:N"`.
    #[getter]
    fn device(&self) -> String {
        match self.place {
            Place::Cpu => "cpu".into(),
            Place::Cuda(n) => format!("cuda:{n}"),
        }
    }

    /// The length of the first dimension.
    fn __len__(&self) -> usize {
        self.shape.first().copied().unwrap_or(0) as usize
    }

    pub fn __repr__(&self) -> String {
        format!("Array(shape={:?}, dtype={}, device={})", self.shape, self.dtype(), self.device())
    }

    /// A DLPack capsule lending the memory (no copy): the DLPack protocol's producer side.
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(u32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        let request = ExportRequest::parse(stream.as_ref(), max_version, dl_device, copy)?;
        export_dlpack(self, py, request)
    }

    /// `(device type, device id)`: `(1, 0)` for host memory, `(2, n)` for CUDA GPU `n`.
    fn __dlpack_device__(&self) -> (i32, i32) {
        match self.place {
            Place::Cpu => (1, 0),
            Place::Cuda(n) => (2, n as i32),
        }
    }

    /// NumPy's array interface (version 3), for host arrays: `numpy.asarray(array)`.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.place != Place::Cpu {
            return Err(PyAttributeError::new_err("__array_interface__: the array is in GPU memory"));
        }
        self.interface(py)
    }

    /// The CUDA array interface (version 3), for GPU arrays: CuPy, Numba, PyTorch.
    #[getter]
    fn __cuda_array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.place == Place::Cpu {
            return Err(PyAttributeError::new_err("__cuda_array_interface__: the array is in host memory"));
        }
        let d = self.interface(py)?;
        // The pixels are complete: no stream to synchronise with.
        d.set_item("stream", py.None())?;
        Ok(d)
    }

    /// The same memory with another shape (no copy), as `numpy.reshape` of a contiguous
    /// array: the array must be compact row-major (every batch is) and `shape` must hold
    /// as many elements. The samplers split a batch `(N, …)` into `(clips, frames, …)`
    /// this way, on the host and on the GPU alike.
    fn reshape(&self, shape: Vec<i64>) -> PyResult<Array> {
        let count = |s: &[i64]| s.iter().product::<i64>();
        if shape.iter().any(|&d| d < 0) || count(&shape) != count(&self.shape) {
            return Err(PyValueError::new_err(format!(
                "cannot reshape an array of shape {:?} into {:?}",
                self.shape, shape
            )));
        }
        if count(&self.shape) > 0 && self.strides != compact_strides(&self.shape) {
            return Err(PyValueError::new_err("reshape: the array is not compact (a strided view); copy it first"));
        }
        let strides = compact_strides(&shape);
        Ok(Array { owner: self.owner.clone(), ptr: self.ptr, shape, strides, elem: self.elem, place: self.place })
    }

    /// A copy of the bytes, row-major (host arrays only; without NumPy).
    fn tobytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.host_bytes()?))
    }
}

impl Array {
    fn interface<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.ptr == 0 && self.shape.iter().product::<i64>() > 0 {
            return Err(PyValueError::new_err("array without memory"));
        }
        let d = PyDict::new(py);
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("typestr", self.typestr())?;
        d.set_item("data", (self.ptr, false))?;
        d.set_item("strides", PyTuple::new(py, self.byte_strides())?)?;
        d.set_item("version", 3)?;
        Ok(d)
    }
}
