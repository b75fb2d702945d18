//! Small Core Foundation helpers: the numbers, booleans, arrays and dictionaries the
//! sessions are configured with, and the values read back out of Apple's dictionaries.
//!
//! objc2's convenience constructors (`CFNumber::new_i32`, `CFDictionary::from_slices`, …)
//! panic or abort when Core Foundation returns NULL; these call the underlying `Create`
//! functions instead and turn a NULL into an `OSStatus`, so that nothing here panics.

use std::ffi::c_void;
use std::ptr::{self, NonNull};

use objc2_core_foundation::{
    CFArray, CFBoolean, CFDictionary, CFIndex, CFNumber, CFNumberType, CFRetained, CFString, CFStringBuiltInEncodings,
    CFType, Type, kCFBooleanFalse, kCFBooleanTrue, kCFTypeArrayCallBacks, kCFTypeDictionaryKeyCallBacks,
    kCFTypeDictionaryValueCallBacks,
};
use objc2_video_toolbox::{kVTAllocationFailedErr, kVTParameterErr};

use super::super::api::OsStatus;

/// `noErr`.
pub(super) const NO_ERR: OsStatus = 0;

/// `Ok` for `noErr`, the status itself otherwise.
pub(super) fn check(status: OsStatus) -> Result<(), OsStatus> {
    if status == NO_ERR { Ok(()) } else { Err(status) }
}

/// Takes ownership of the object a `Create`/`Copy` function left in its out parameter
/// (Core Foundation's Create Rule: the caller owns one reference and must release it).
/// A non-NULL object is taken even when `status` is an error, so that it is released
/// rather than leaked; a NULL one with success becomes `if_null`.
///
/// # Safety
///
/// `out` must be NULL or an object of type `T` carrying a +1 reference that nothing else
/// will release.
pub(super) unsafe fn owned<T: Type>(
    status: OsStatus,
    out: *const T,
    if_null: OsStatus,
) -> Result<CFRetained<T>, OsStatus> {
    // SAFETY: the caller guarantees that a non-NULL `out` is a +1 reference of type `T`
    // which we now own; `CFRetained` releases it exactly once when dropped.
    let object = NonNull::new(out.cast_mut()).map(|ptr| unsafe { CFRetained::from_raw(ptr) });
    check(status)?;
    object.ok_or(if_null)
}

/// A `CFString` with `text` (`CFStringCreateWithBytes`, UTF-8; the bytes are copied).
pub(super) fn string(text: &str) -> Result<CFRetained<CFString>, OsStatus> {
    let len = index(text.len())?;
    // SAFETY: `text` is `len` bytes of valid UTF-8, read only during the call.
    let string =
        unsafe { CFString::with_bytes(None, text.as_ptr(), len, CFStringBuiltInEncodings::EncodingUTF8.0, false) };
    string.ok_or(kVTAllocationFailedErr)
}

/// `CFNumberCreate` from a value of the matching C type.
fn number<T>(kind: CFNumberType, value: &T) -> Result<CFRetained<CFNumber>, OsStatus> {
    let ptr: *const T = value;
    // SAFETY: `ptr` points to a live value whose C type is `kind` (the public wrappers
    // below pair each Rust type with its CFNumberType); CFNumberCreate copies it.
    unsafe { CFNumber::new(None, kind, ptr.cast()) }.ok_or(kVTAllocationFailedErr)
}

/// A `CFNumber` holding an `SInt32`.
pub(super) fn int32(value: i32) -> Result<CFRetained<CFNumber>, OsStatus> {
    number(CFNumberType::SInt32Type, &value)
}

/// A `CFNumber` holding an `SInt64`.
pub(super) fn int64(value: i64) -> Result<CFRetained<CFNumber>, OsStatus> {
    number(CFNumberType::SInt64Type, &value)
}

/// A `CFNumber` holding a `Float64`.
pub(super) fn float64(value: f64) -> Result<CFRetained<CFNumber>, OsStatus> {
    number(CFNumberType::Float64Type, &value)
}

/// `kCFBooleanTrue` or `kCFBooleanFalse` (constants; nothing to release).
pub(super) fn boolean(value: bool) -> Result<&'static CFBoolean, OsStatus> {
    // SAFETY: reads Core Foundation's exported constant booleans, which are immutable and
    // live for the whole process.
    let constant = unsafe { if value { kCFBooleanTrue } else { kCFBooleanFalse } };
    constant.ok_or(kVTParameterErr)
}

/// The length of a slice as a `CFIndex`.
fn index(len: usize) -> Result<CFIndex, OsStatus> {
    CFIndex::try_from(len).map_err(|_| kVTParameterErr)
}

/// An immutable `CFDictionary` of `pairs`, made with the `CFType` callbacks: it retains
/// every key and value, so the caller's references need only live for this call.
pub(super) fn dictionary(pairs: &[(&CFString, &CFType)]) -> Result<CFRetained<CFDictionary>, OsStatus> {
    let keys: Vec<*const c_void> = pairs.iter().map(|&(key, _)| ptr::from_ref(key).cast()).collect();
    let values: Vec<*const c_void> = pairs.iter().map(|&(_, value)| ptr::from_ref(value).cast()).collect();
    let len = index(pairs.len())?;
    // SAFETY: `keys` and `values` each hold `len` live CF objects (borrowed from `pairs`
    // for the duration of the call); CFDictionaryCreate only reads the two arrays and
    // retains each object through the CFType callbacks, Core Foundation's own constants.
    let dictionary = unsafe {
        CFDictionary::new(
            None,
            keys.as_ptr().cast_mut(),
            values.as_ptr().cast_mut(),
            len,
            &raw const kCFTypeDictionaryKeyCallBacks,
            &raw const kCFTypeDictionaryValueCallBacks,
        )
    };
    dictionary.ok_or(kVTAllocationFailedErr)
}

/// An immutable `CFArray` of `items`, made with the `CFType` callbacks (it retains them).
pub(super) fn array(items: &[&CFType]) -> Result<CFRetained<CFArray>, OsStatus> {
    let values: Vec<*const c_void> = items.iter().map(|&item| ptr::from_ref(item).cast()).collect();
    let len = index(items.len())?;
    // SAFETY: `values` holds `len` live CF objects; CFArrayCreate only reads the array and
    // retains each object through the CFType callbacks.
    let array = unsafe { CFArray::new(None, values.as_ptr().cast_mut(), len, &raw const kCFTypeArrayCallBacks) };
    array.ok_or(kVTAllocationFailedErr)
}

/// The value for `key` in a dictionary of CF objects (a property list, as every dictionary
/// Apple hands us here is), retained so that it outlives the dictionary.
pub(super) fn get(dictionary: &CFDictionary, key: &CFString) -> Option<CFRetained<CFType>> {
    let key: *const CFString = key;
    // SAFETY: `key` is a live CFString, valid for the dictionary's (CFType) key callbacks;
    // CFDictionaryGetValue returns NULL or a value the dictionary owns (Get Rule).
    let value = unsafe { dictionary.value(key.cast()) };
    let value = NonNull::new(value.cast_mut().cast::<CFType>())?;
    // SAFETY: the value is a CF object kept alive by `dictionary`, which the caller's
    // borrow keeps alive until this retain has taken our own reference.
    Some(unsafe { CFRetained::retain(value) })
}

/// Item `index` of an array of CF objects, retained.
pub(super) fn item(array: &CFArray, index: usize) -> Option<CFRetained<CFType>> {
    let index = CFIndex::try_from(index).ok()?;
    if index >= array.count() {
        return None;
    }
    // SAFETY: `index` is within the array's bounds (checked above); the value is owned by
    // the array (Get Rule).
    let value = unsafe { array.value_at_index(index) };
    let value = NonNull::new(value.cast_mut().cast::<CFType>())?;
    // SAFETY: the value is a CF object kept alive by `array`, borrowed by the caller until
    // this retain has taken our own reference.
    Some(unsafe { CFRetained::retain(value) })
}

/// A `CFNumber`'s value as an `SInt64`, if it is a number that fits.
pub(super) fn to_i64(value: &CFType) -> Option<i64> {
    value.downcast_ref::<CFNumber>()?.as_i64()
}

/// A `CFString`'s text.
pub(super) fn to_string(value: &CFType) -> Option<String> {
    value.downcast_ref::<CFString>().map(ToString::to_string)
}

/// A `CFBoolean`'s value.
pub(super) fn to_bool(value: &CFType) -> Option<bool> {
    value.downcast_ref::<CFBoolean>().map(CFBoolean::as_bool)
}
