//! A small `iconv` for Mini-OS, whose newlib does not link one.
//!
//! LibVMI uses iconv in one place, `vmi_convert_str_encoding` (convenience.c), to turn
//! guest strings (Windows' UTF-16) into UTF-8; the archive compiles LibVMI with
//! `-Diconv_open=tinyvmi_iconv_open -Diconv=tinyvmi_iconv -Diconv_close=tinyvmi_iconv_close`.
//!
//! Supported: to `UTF-8` from `UTF-16` (a byte-order mark selects the order, else
//! little-endian, the order of Windows guests), `UTF-16LE`, `UTF-16BE`, `UTF-8` and
//! `ASCII`; names are case-insensitive. Anything else fails in `iconv_open`. Errors
//! return `(size_t)-1` without setting `errno` (LibVMI only checks the return value).
//!
//! ```
//! use tinyvmi::iconv::{Converter, Encoding};
//! let mut c = Converter::new(Encoding::parse(b"UTF-16").unwrap());
//! let mut out = [0u8; 8];
//! let (read, written) = c.convert(&[0x68, 0, 0xe9, 0], &mut out).unwrap();
//! assert_eq!((read, &out[..written]), (4, "hé".as_bytes()));
//! ```

use alloc::boxed::Box;
use core::ffi::{c_char, c_void, CStr};

/// A source encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16 with an optional byte-order mark (little-endian without one).
    Utf16,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// UTF-8 (copied after validation).
    Utf8,
    /// 7-bit ASCII.
    Ascii,
}

impl Encoding {
    /// The encoding named `name` (as given to `iconv_open`), if supported.
    pub fn parse(name: &[u8]) -> Option<Encoding> {
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("UTF-16") || is("UTF16") {
            Some(Encoding::Utf16)
        } else if is("UTF-16LE") || is("UTF16LE") {
            Some(Encoding::Utf16Le)
        } else if is("UTF-16BE") || is("UTF16BE") {
            Some(Encoding::Utf16Be)
        } else if is("UTF-8") || is("UTF8") {
            Some(Encoding::Utf8)
        } else if is("ASCII") || is("US-ASCII") {
            Some(Encoding::Ascii)
        } else {
            None
        }
    }
}

/// Why a conversion stopped (the `errno` iconv would set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertError {
    /// Invalid input sequence (`EILSEQ`); `read`/`written` say how far it got.
    Invalid {
        /// Input bytes consumed before the bad sequence.
        read: usize,
        /// Output bytes produced.
        written: usize,
    },
    /// Incomplete sequence at the end of the input (`EINVAL`).
    Incomplete {
        /// Input bytes consumed.
        read: usize,
        /// Output bytes produced.
        written: usize,
    },
    /// The output buffer is full (`E2BIG`).
    OutputFull {
        /// Input bytes consumed.
        read: usize,
        /// Output bytes produced.
        written: usize,
    },
}

/// A conversion to UTF-8 with its state (the byte order of `UTF-16` once known).
#[derive(Debug, Clone)]
pub struct Converter {
    from: Encoding,
    big_endian: Option<bool>,
}

impl Converter {
    /// A converter from `from` to UTF-8.
    pub fn new(from: Encoding) -> Converter {
        let big_endian = match from {
            Encoding::Utf16Le => Some(false),
            Encoding::Utf16Be => Some(true),
            _ => None,
        };
        Converter { from, big_endian }
    }

    /// Forgets the byte order learnt from a byte-order mark (iconv with a NULL input).
    pub fn reset(&mut self) {
        *self = Converter::new(self.from);
    }

    /// Converts as much of `input` as fits into `out`; returns the bytes read and
    /// written.
    pub fn convert(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, usize), ConvertError> {
        let (mut r, mut w) = (0usize, 0usize);
        while r < input.len() {
            let (ch, used) = match self.from {
                Encoding::Ascii => match input[r] {
                    b if b < 0x80 => (b as char, 1),
                    _ => {
                        return Err(ConvertError::Invalid {
                            read: r,
                            written: w,
                        })
                    }
                },
                Encoding::Utf8 => {
                    let len = match input[r] {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf7 => 4,
                        _ => {
                            return Err(ConvertError::Invalid {
                                read: r,
                                written: w,
                            })
                        }
                    };
                    let Some(seq) = input.get(r..r + len) else {
                        return Err(ConvertError::Incomplete {
                            read: r,
                            written: w,
                        });
                    };
                    match core::str::from_utf8(seq)
                        .ok()
                        .and_then(|s| s.chars().next())
                    {
                        Some(c) => (c, len),
                        None => {
                            return Err(ConvertError::Invalid {
                                read: r,
                                written: w,
                            })
                        }
                    }
                }
                Encoding::Utf16 | Encoding::Utf16Le | Encoding::Utf16Be => {
                    let unit = |at: usize, be: bool| -> Option<u16> {
                        let b = input.get(at..at + 2)?;
                        Some(if be {
                            u16::from_be_bytes([b[0], b[1]])
                        } else {
                            u16::from_le_bytes([b[0], b[1]])
                        })
                    };
                    if self.big_endian.is_none() {
                        match input.get(r..r + 2) {
                            Some([0xff, 0xfe]) => {
                                self.big_endian = Some(false);
                                r += 2;
                                continue;
                            }
                            Some([0xfe, 0xff]) => {
                                self.big_endian = Some(true);
                                r += 2;
                                continue;
                            }
                            Some(_) => self.big_endian = Some(false),
                            None => {
                                return Err(ConvertError::Incomplete {
                                    read: r,
                                    written: w,
                                })
                            }
                        }
                    }
                    let be = self.big_endian == Some(true);
                    let Some(first) = unit(r, be) else {
                        return Err(ConvertError::Incomplete {
                            read: r,
                            written: w,
                        });
                    };
                    match first {
                        0xd800..=0xdbff => {
                            let Some(second) = unit(r + 2, be) else {
                                return Err(ConvertError::Incomplete {
                                    read: r,
                                    written: w,
                                });
                            };
                            match char::decode_utf16([first, second]).next() {
                                Some(Ok(c)) => (c, 4),
                                _ => {
                                    return Err(ConvertError::Invalid {
                                        read: r,
                                        written: w,
                                    })
                                }
                            }
                        }
                        0xdc00..=0xdfff => {
                            return Err(ConvertError::Invalid {
                                read: r,
                                written: w,
                            })
                        }
                        u => (char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'), 2),
                    }
                }
            };
            let mut buf = [0u8; 4];
            let bytes = ch.encode_utf8(&mut buf).as_bytes();
            let Some(dest) = out.get_mut(w..w + bytes.len()) else {
                return Err(ConvertError::OutputFull {
                    read: r,
                    written: w,
                });
            };
            dest.copy_from_slice(bytes);
            r += used;
            w += bytes.len();
        }
        Ok((r, w))
    }
}

const FAILED: usize = usize::MAX;

/// C: `iconv_t tinyvmi_iconv_open(const char *tocode, const char *fromcode)`; returns
/// `(iconv_t)-1` for an unsupported pair.
///
/// # Safety
/// Both arguments must be NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_iconv_open(to: *const c_char, from: *const c_char) -> *mut c_void {
    if to.is_null() || from.is_null() {
        return FAILED as *mut c_void;
    }
    // SAFETY: per the contract above.
    let (to, from) = unsafe {
        (
            CStr::from_ptr(to).to_bytes(),
            CStr::from_ptr(from).to_bytes(),
        )
    };
    if Encoding::parse(to) != Some(Encoding::Utf8) {
        return FAILED as *mut c_void;
    }
    match Encoding::parse(from) {
        Some(e) => Box::into_raw(Box::new(Converter::new(e))).cast(),
        None => FAILED as *mut c_void,
    }
}

/// C: `size_t tinyvmi_iconv(iconv_t cd, char **in, size_t *inleft, char **out,
/// size_t *outleft)` with iconv's pointer-advancing contract; returns 0 (no
/// irreversible conversions) or `(size_t)-1`.
///
/// # Safety
/// `cd` must come from [`tinyvmi_iconv_open`]; the buffers must be valid as for iconv.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_iconv(
    cd: *mut c_void,
    inbuf: *mut *mut c_char,
    inleft: *mut usize,
    outbuf: *mut *mut c_char,
    outleft: *mut usize,
) -> usize {
    if cd.is_null() || cd as usize == FAILED {
        return FAILED;
    }
    // SAFETY: `cd` is a live converter (contract).
    let conv = unsafe { &mut *cd.cast::<Converter>() };
    // SAFETY: iconv's contract for the pointer arguments.
    unsafe {
        if inbuf.is_null() || (*inbuf).is_null() {
            conv.reset();
            return 0;
        }
        if inleft.is_null() || outbuf.is_null() || (*outbuf).is_null() || outleft.is_null() {
            return FAILED;
        }
        let input = core::slice::from_raw_parts((*inbuf).cast::<u8>(), *inleft);
        let out = core::slice::from_raw_parts_mut((*outbuf).cast::<u8>(), *outleft);
        let (result, read, written) = match conv.convert(input, out) {
            Ok((r, w)) => (0, r, w),
            Err(
                ConvertError::Invalid { read, written }
                | ConvertError::Incomplete { read, written }
                | ConvertError::OutputFull { read, written },
            ) => (FAILED, read, written),
        };
        *inbuf = (*inbuf).add(read);
        *inleft -= read;
        *outbuf = (*outbuf).add(written);
        *outleft -= written;
        result
    }
}

/// C: `int tinyvmi_iconv_close(iconv_t cd)`.
///
/// # Safety
/// `cd` must come from [`tinyvmi_iconv_open`] and not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tinyvmi_iconv_close(cd: *mut c_void) -> core::ffi::c_int {
    if cd.is_null() || cd as usize == FAILED {
        return -1;
    }
    // SAFETY: allocated by tinyvmi_iconv_open (contract).
    drop(unsafe { Box::from_raw(cd.cast::<Converter>()) });
    0
}
