//! `OSStatus` codes as errors that name them: VideoToolbox's (`VTErrors.h`), Core Media's
//! format-description, block-buffer and sample-buffer codes and Core Video's `CVReturn`s,
//! as the objc2 bindings (generated from Apple's SDK headers) list them.

use crate::error::Error;

use super::api::OsStatus;

/// The code's name in Apple's headers, where this engine knows it.
pub(crate) fn name(status: OsStatus) -> Option<&'static str> {
    Some(match status {
        -12900 => "kVTPropertyNotSupportedErr",
        -12901 => "kVTPropertyReadOnlyErr",
        -12902 => "kVTParameterErr",
        -12903 => "kVTInvalidSessionErr",
        -12904 => "kVTAllocationFailedErr",
        -12905 => "kVTPixelTransferNotSupportedErr",
        -12906 => "kVTCouldNotFindVideoDecoderErr",
        -12907 => "kVTCouldNotCreateInstanceErr",
        -12908 => "kVTCouldNotFindVideoEncoderErr",
        -12909 => "kVTVideoDecoderBadDataErr",
        -12910 => "kVTVideoDecoderUnsupportedDataFormatErr",
        -12911 => "kVTVideoDecoderMalfunctionErr",
        -12912 => "kVTVideoEncoderMalfunctionErr",
        -12913 => "kVTVideoDecoderNotAvailableNowErr",
        -12914 => "kVTPixelRotationNotSupportedErr",
        -12915 => "kVTVideoEncoderNotAvailableNowErr",
        -12916 => "kVTFormatDescriptionChangeNotSupportedErr",
        -12917 => "kVTInsufficientSourceColorDataErr",
        -12918 => "kVTCouldNotCreateColorCorrectionDataErr",
        -12919 => "kVTColorSyncTransformConvertFailedErr",
        -12210 => "kVTVideoDecoderAuthorizationErr",
        -12211 => "kVTVideoEncoderAuthorizationErr",
        -12212 => "kVTColorCorrectionPixelTransferFailedErr",
        -12213 => "kVTMultiPassStorageIdentifierMismatchErr",
        -12214 => "kVTMultiPassStorageInvalidErr",
        -12215 => "kVTFrameSiloInvalidTimeStampErr",
        -12216 => "kVTFrameSiloInvalidTimeRangeErr",
        -12217 => "kVTCouldNotFindTemporalFilterErr",
        -12218 => "kVTPixelTransferNotPermittedErr",
        -12219 => "kVTColorCorrectionImageRotationFailedErr",
        -17690 => "kVTVideoDecoderRemovedErr",
        -17691 => "kVTSessionMalfunctionErr",
        -17692 => "kVTVideoDecoderNeedsRosettaErr",
        -17693 => "kVTVideoEncoderNeedsRosettaErr",
        -17694 => "kVTVideoDecoderReferenceMissingErr",
        -17695 => "kVTVideoDecoderCallbackMessagingErr",
        -17696 => "kVTVideoDecoderUnknownErr",
        -17697 => "kVTExtensionDisabledErr",
        -17698 => "kVTVideoEncoderMVHEVCVideoLayerIDsMismatchErr",
        -17699 => "kVTCouldNotOutputTaggedBufferGroupErr",
        -19510 => "kVTCouldNotFindExtensionErr",
        -19511 => "kVTExtensionConflictErr",
        -19512 => "kVTVideoEncoderAutoWhiteBalanceNotLockedErr",
        -12710 => "kCMFormatDescriptionError_InvalidParameter",
        -12711 => "kCMFormatDescriptionError_AllocationFailed",
        -12718 => "kCMFormatDescriptionError_ValueNotAvailable",
        -12700 => "kCMBlockBufferStructureAllocationFailedErr",
        -12701 => "kCMBlockBufferBlockAllocationFailedErr",
        -12702 => "kCMBlockBufferBadCustomBlockSourceErr",
        -12703 => "kCMBlockBufferBadOffsetParameterErr",
        -12704 => "kCMBlockBufferBadLengthParameterErr",
        -12705 => "kCMBlockBufferBadPointerParameterErr",
        -12706 => "kCMBlockBufferEmptyBBufErr",
        -12707 => "kCMBlockBufferUnallocatedBlockErr",
        -12708 => "kCMBlockBufferInsufficientSpaceErr",
        -12730 => "kCMSampleBufferError_AllocationFailed",
        -12731 => "kCMSampleBufferError_RequiredParameterMissing",
        -12732 => "kCMSampleBufferError_AlreadyHasDataBuffer",
        -12733 => "kCMSampleBufferError_BufferNotReady",
        -12734 => "kCMSampleBufferError_SampleIndexOutOfRange",
        -12735 => "kCMSampleBufferError_BufferHasNoSampleSizes",
        -12736 => "kCMSampleBufferError_BufferHasNoSampleTimingInfo",
        -12737 => "kCMSampleBufferError_ArrayTooSmall",
        -12738 => "kCMSampleBufferError_InvalidEntryCount",
        -12739 => "kCMSampleBufferError_CannotSubdivide",
        -12740 => "kCMSampleBufferError_SampleTimingInfoInvalid",
        -12741 => "kCMSampleBufferError_InvalidMediaTypeForOperation",
        -12742 => "kCMSampleBufferError_InvalidSampleData",
        -12743 => "kCMSampleBufferError_InvalidMediaFormat",
        -12744 => "kCMSampleBufferError_Invalidated",
        -16750 => "kCMSampleBufferError_DataFailed",
        -16751 => "kCMSampleBufferError_DataCanceled",
        -6661 => "kCVReturnInvalidArgument",
        -6662 => "kCVReturnAllocationFailed",
        -6663 => "kCVReturnUnsupported",
        -6670 => "kCVReturnInvalidDisplay",
        -6671 => "kCVReturnDisplayLinkAlreadyRunning",
        -6672 => "kCVReturnDisplayLinkNotRunning",
        -6673 => "kCVReturnDisplayLinkCallbacksNotSet",
        -6680 => "kCVReturnInvalidPixelFormat",
        -6681 => "kCVReturnInvalidSize",
        -6682 => "kCVReturnInvalidPixelBufferAttributes",
        -6683 => "kCVReturnPixelBufferNotOpenGLCompatible",
        -6684 => "kCVReturnPixelBufferNotMetalCompatible",
        -6689 => "kCVReturnWouldExceedAllocationThreshold",
        -6690 => "kCVReturnPoolAllocationFailed",
        -6691 => "kCVReturnInvalidPoolAttributes",
        -6692 => "kCVReturnRetry",
        _ => return None,
    })
}

/// "OSStatus -12909 (kVTVideoDecoderBadDataErr)".
pub(crate) fn describe(status: OsStatus) -> String {
    match name(status) {
        Some(n) => format!("OSStatus {status} ({n})"),
        None => format!("OSStatus {status}"),
    }
}

/// Whether the status says the input was damaged (not the engine): such errors are
/// reported as invalid bitstreams, as the other engines report them.
pub(crate) fn is_bad_data(status: OsStatus) -> bool {
    matches!(status, -12909 | -12910 | -17694)
}

/// The error a failed call returns: `call` names the function, `offset` the input's
/// byte offset where there is one.
pub(crate) fn error(call: &str, status: OsStatus, offset: Option<u64>) -> Error {
    match offset {
        Some(offset) if is_bad_data(status) => {
            Error::invalid_bitstream(offset, format!("videotoolbox {call}: {}", describe(status)))
        }
        _ => Error::backend("videotoolbox", status, format!("{call}: {}", describe(status))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_and_bad_data_is_a_bitstream_error() {
        assert_eq!(describe(-12909), "OSStatus -12909 (kVTVideoDecoderBadDataErr)");
        assert_eq!(describe(-1), "OSStatus -1");
        let e = error("VTDecompressionSessionDecodeFrame", -12909, Some(4096));
        assert!(matches!(e, Error::InvalidBitstream { offset: 4096, .. }), "{e}");
        let e = error("VTCompressionSessionCreate", -12908, None);
        let text = e.to_string();
        assert!(text.contains("kVTCouldNotFindVideoEncoderErr") && text.contains("videotoolbox"), "{text}");
    }
}
