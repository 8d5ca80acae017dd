//! Strings and the stock hash/equality functions. Results are `malloc`ed.

use core::ffi::c_char;

use crate::{gbool, gboolean, gchar, gconstpointer, gint, gint64, gsize, gssize, guint, sys};

extern "C" {
    /// `g_strdup_printf(format, ...)`: a `malloc`ed string formatted like `vasprintf`
    /// (`"%s"` with NULL gives `"(null)"` on glibc and newlib). Implemented in C
    /// (`csrc/variadic.c`). NULL on a format error; aborts when out of memory.
    ///
    /// ```
    /// use tinyglib::*;
    /// unsafe {
    ///     let s = tinyglib_g_strdup_printf(c"%s/%u".as_ptr(), c"dom".as_ptr(), 7u32);
    ///     assert_eq!(core::ffi::CStr::from_ptr(s), c"dom/7");
    ///     tinyglib_g_free(s.cast());
    /// }
    /// ```
    pub fn tinyglib_g_strdup_printf(format: *const gchar, ...) -> *mut gchar;
    /// `g_strconcat(s1, ..., NULL)`: a `malloc`ed concatenation up to the first NULL
    /// argument; NULL when `s1` is NULL. Implemented in C (`csrc/variadic.c`).
    ///
    /// ```
    /// use tinyglib::*;
    /// unsafe {
    ///     let s = tinyglib_g_strconcat(c"a".as_ptr(), c"bc".as_ptr(), core::ptr::null::<gchar>());
    ///     assert_eq!(core::ffi::CStr::from_ptr(s), c"abc");
    ///     tinyglib_g_free(s.cast());
    /// }
    /// ```
    pub fn tinyglib_g_strconcat(string1: *const gchar, ...) -> *mut gchar;
}

/// Length of a C string.
///
/// # Safety
/// `s` is a valid NUL-terminated string.
#[inline]
unsafe fn cstrlen(s: *const c_char) -> usize {
    // SAFETY: forwarded precondition.
    unsafe { sys::strlen(s) }
}

/// `g_strdup(s)`: a `malloc`ed copy; NULL gives NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     assert!(tinyglib_g_strdup(core::ptr::null()).is_null());
///     let s = tinyglib_g_strdup(c"hi".as_ptr());
///     assert_eq!(core::ffi::CStr::from_ptr(s), c"hi");
///     tinyglib_g_free(s.cast());
/// }
/// ```
///
/// # Safety
/// `s` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_strdup(s: *const gchar) -> *mut gchar {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: `s` is a valid string; the copy includes its NUL.
    unsafe {
        let n = cstrlen(s) + 1;
        let p = sys::xmalloc(n) as *mut gchar;
        core::ptr::copy_nonoverlapping(s, p, n);
        p
    }
}

/// `g_strndup(s, n)`: `n + 1` bytes, up to `n` copied `strncpy`-style (zero-padded),
/// `[n] = 0`; NULL gives NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let s = tinyglib_g_strndup(c"abcdef".as_ptr(), 3);
///     assert_eq!(core::ffi::CStr::from_ptr(s), c"abc");
///     tinyglib_g_free(s.cast());
/// }
/// ```
///
/// # Safety
/// `s` is NULL, or readable up to its NUL or `n` bytes, whichever comes first.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_strndup(s: *const gchar, n: gsize) -> *mut gchar {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    let total = match n.checked_add(1) {
        Some(t) => t,
        // SAFETY: libc abort: the allocation cannot be satisfied (g_malloc would abort).
        None => unsafe { sys::abort() },
    };
    // SAFETY: the buffer is n+1 bytes; we read `s` only up to its NUL or n bytes.
    unsafe {
        let p = sys::xmalloc(total) as *mut gchar;
        let mut i = 0;
        while i < n && *s.add(i) != 0 {
            *p.add(i) = *s.add(i);
            i += 1;
        }
        core::ptr::write_bytes(p.add(i), 0, total - i);
        p
    }
}

/// `g_stpcpy(dest, src)`: `strcpy` returning a pointer to the copied NUL; NULL `dest`
/// or `src` gives NULL.
///
/// ```
/// use tinyglib::*;
/// let mut buf = [0 as gchar; 8];
/// unsafe {
///     let end = tinyglib_g_stpcpy(buf.as_mut_ptr(), c"abc".as_ptr());
///     assert_eq!(end.offset_from(buf.as_ptr()), 3);
/// }
/// ```
///
/// # Safety
/// `dest` has room for `src` and its NUL; `src` is a valid string.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_stpcpy(dest: *mut gchar, src: *const gchar) -> *mut gchar {
    if dest.is_null() || src.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: forwarded preconditions; `src` may overlap nothing we write past.
    unsafe {
        let n = cstrlen(src);
        core::ptr::copy(src, dest, n + 1);
        dest.add(n)
    }
}

/// `g_strlcpy(dest, src, n)`: copies up to `n - 1` bytes plus a NUL (nothing for
/// `n == 0`); returns `strlen(src)` (0 when either pointer is NULL).
///
/// ```
/// use tinyglib::*;
/// let mut buf = [0 as gchar; 4];
/// unsafe {
///     assert_eq!(tinyglib_g_strlcpy(buf.as_mut_ptr(), c"abcdef".as_ptr(), 4), 6);
///     assert_eq!(core::ffi::CStr::from_ptr(buf.as_ptr()), c"abc");
/// }
/// ```
///
/// # Safety
/// `dest` is writable for `dest_size` bytes; `src` is a valid string.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_strlcpy(
    dest: *mut gchar,
    src: *const gchar,
    dest_size: gsize,
) -> gsize {
    if dest.is_null() || src.is_null() {
        return 0;
    }
    // SAFETY: forwarded preconditions.
    unsafe {
        let len = cstrlen(src);
        if dest_size > 0 {
            let n = len.min(dest_size - 1);
            core::ptr::copy(src, dest, n);
            *dest.add(n) = 0;
        }
        len
    }
}

/// `g_strlcat(dest, src, n)`: BSD `strlcat`; returns `min(strlen(dest), n) + strlen(src)`.
///
/// ```
/// use tinyglib::*;
/// let mut buf = [0 as gchar; 5];
/// unsafe {
///     buf[0] = b'a' as gchar; buf[1] = b'b' as gchar;
///     assert_eq!(tinyglib_g_strlcat(buf.as_mut_ptr(), c"cdef".as_ptr(), 5), 6);
///     assert_eq!(core::ffi::CStr::from_ptr(buf.as_ptr()), c"abcd");
/// }
/// ```
///
/// # Safety
/// `dest` is writable for `dest_size` bytes; `src` is a valid string.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_strlcat(
    dest: *mut gchar,
    src: *const gchar,
    dest_size: gsize,
) -> gsize {
    if dest.is_null() || src.is_null() {
        return 0;
    }
    // SAFETY: we read `dest` only within dest_size and write only within it.
    unsafe {
        let mut dlen = 0;
        while dlen < dest_size && *dest.add(dlen) != 0 {
            dlen += 1;
        }
        let slen = cstrlen(src);
        if dlen == dest_size {
            return dest_size + slen;
        }
        let room = dest_size - dlen - 1;
        let n = slen.min(room);
        core::ptr::copy(src, dest.add(dlen), n);
        *dest.add(dlen + n) = 0;
        dlen + slen
    }
}

/// `g_strcmp0(a, b)`: NULL-tolerant `strcmp` (NULL sorts first); otherwise the raw
/// `strcmp` value.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     assert_eq!(tinyglib_g_strcmp0(core::ptr::null(), core::ptr::null()), 0);
///     assert_eq!(tinyglib_g_strcmp0(core::ptr::null(), c"x".as_ptr()), -1);
///     assert_eq!(tinyglib_g_strcmp0(c"a".as_ptr(), c"a".as_ptr()), 0);
/// }
/// ```
///
/// # Safety
/// Non-NULL arguments are valid strings.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_strcmp0(str1: *const gchar, str2: *const gchar) -> gint {
    match (str1.is_null(), str2.is_null()) {
        (true, true) => 0,
        (true, false) => -1,
        (false, true) => 1,
        // SAFETY: both are valid strings.
        (false, false) => unsafe { cstrcmp(str1, str2) },
    }
}

/// `g_ascii_strdown(s, len)`: a `malloc`ed copy of the first `len` bytes (`len < 0`:
/// all of `s`) with ASCII `A`–`Z` lowered; NULL gives NULL.
///
/// ```
/// use tinyglib::*;
/// unsafe {
///     let s = tinyglib_g_ascii_strdown(c"LiNuX".as_ptr(), -1);
///     assert_eq!(core::ffi::CStr::from_ptr(s), c"linux");
///     tinyglib_g_free(s.cast());
/// }
/// ```
///
/// # Safety
/// `s` is NULL or a valid string (or readable for `len` bytes).
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_ascii_strdown(s: *const gchar, len: gssize) -> *mut gchar {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: forwarded preconditions; the copy has `n` bytes before its NUL.
    unsafe {
        let n = if len < 0 { cstrlen(s) } else { len as usize };
        let p = tinyglib_g_strndup(s, n);
        let mut i = 0;
        while *p.add(i) != 0 {
            let c = *p.add(i) as u8;
            *p.add(i) = c.to_ascii_lowercase() as gchar;
            i += 1;
        }
        p
    }
}

/// djb2 over signed chars, GLib's `g_str_hash` formula.
///
/// # Safety
/// `s` is a valid NUL-terminated string.
#[inline]
pub(crate) unsafe fn str_hash(s: *const c_char) -> u32 {
    let mut h: u32 = 5381;
    let mut p = s.cast::<i8>(); // signed chars on every target, as GLib
                                // SAFETY: reads up to and including the NUL of a valid string.
    unsafe {
        while *p != 0 {
            h = h.wrapping_mul(33).wrapping_add(*p as i32 as u32);
            p = p.add(1);
        }
    }
    h
}

/// `strcmp` as a byte loop: the difference of the first differing bytes (as unsigned
/// char), which is what glibc returns.
///
/// # Safety
/// Both are valid NUL-terminated strings.
#[inline]
pub(crate) unsafe fn cstrcmp(a: *const c_char, b: *const c_char) -> i32 {
    let (mut a, mut b) = (a as *const u8, b as *const u8);
    // SAFETY: reads stop at the first difference or the common NUL.
    unsafe {
        loop {
            let (x, y) = (*a, *b);
            if x != y || x == 0 {
                return x as i32 - y as i32;
            }
            a = a.add(1);
            b = b.add(1);
        }
    }
}

/// `g_str_hash(v)`: djb2 over signed chars (`h = h * 33 + c`, from 5381).
///
/// ```
/// use tinyglib::*;
/// unsafe { assert_eq!(tinyglib_g_str_hash(c"abc".as_ptr().cast()), 193485963) }
/// ```
///
/// # Safety
/// `v` is a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_str_hash(v: gconstpointer) -> guint {
    // SAFETY: forwarded precondition.
    unsafe { str_hash(v as *const c_char) }
}

/// `g_str_equal(a, b)`: `strcmp(a, b) == 0`, as exactly 1 or 0.
///
/// ```
/// use tinyglib::*;
/// unsafe { assert_eq!(tinyglib_g_str_equal(c"a".as_ptr().cast(), c"a".as_ptr().cast()), 1) }
/// ```
///
/// # Safety
/// Both are valid NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_str_equal(v1: gconstpointer, v2: gconstpointer) -> gboolean {
    // SAFETY: forwarded precondition.
    gbool(v1 == v2 || unsafe { cstrcmp(v1 as *const c_char, v2 as *const c_char) } == 0)
}

/// `g_direct_hash(v)`: the low 32 bits of the pointer.
///
/// ```
/// use tinyglib::*;
/// unsafe { assert_eq!(tinyglib_g_direct_hash(0x1234_5678_9abcusize as gconstpointer), 0x5678_9abc) }
/// ```
///
/// # Safety
/// Always safe; `unsafe` only to match the other C callbacks.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_direct_hash(v: gconstpointer) -> guint {
    v as usize as guint
}

/// `g_direct_equal(a, b)`: pointer equality.
///
/// ```
/// use tinyglib::*;
/// unsafe { assert_eq!(tinyglib_g_direct_equal(8 as gconstpointer, 8 as gconstpointer), 1) }
/// ```
///
/// # Safety
/// Always safe; `unsafe` only to match the other C callbacks.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_direct_equal(v1: gconstpointer, v2: gconstpointer) -> gboolean {
    gbool(v1 == v2)
}

/// `g_int64_hash(p)`: the low 32 bits of `*(gint64 *)p`.
///
/// ```
/// use tinyglib::*;
/// let v: i64 = 1 << 32 | 5;
/// unsafe { assert_eq!(tinyglib_g_int64_hash(&v as *const i64 as gconstpointer), 5) }
/// ```
///
/// # Safety
/// `v` points to a readable `gint64`.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_int64_hash(v: gconstpointer) -> guint {
    // SAFETY: forwarded precondition.
    unsafe { (v as *const gint64).read_unaligned() as guint }
}

/// `g_int64_equal(a, b)`: `*(gint64 *)a == *(gint64 *)b`. Not used by LibVMI; provided
/// so `g_int64_hash` tables have their GLib partner.
///
/// ```
/// use tinyglib::*;
/// let (a, b) = (5i64, 5i64);
/// unsafe { assert_eq!(tinyglib_g_int64_equal(&a as *const i64 as gconstpointer, &b as *const i64 as gconstpointer), 1) }
/// ```
///
/// # Safety
/// Both point to readable `gint64`s.
#[no_mangle]
pub unsafe extern "C" fn tinyglib_g_int64_equal(v1: gconstpointer, v2: gconstpointer) -> gboolean {
    // SAFETY: forwarded precondition.
    unsafe {
        gbool((v1 as *const gint64).read_unaligned() == (v2 as *const gint64).read_unaligned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    fn s(p: *const gchar) -> &'static [u8] {
        // SAFETY: test strings are valid and leaked for the test's duration.
        unsafe { CStr::from_ptr(p).to_bytes() }
    }

    #[test]
    fn hashes() {
        // SAFETY: valid strings.
        unsafe {
            assert_eq!(tinyglib_g_str_hash(c"".as_ptr().cast()), 5381);
            assert_eq!(tinyglib_g_str_hash(c"a".as_ptr().cast()), 177670);
            assert_eq!(tinyglib_g_str_hash(c"abc".as_ptr().cast()), 193485963);
            assert_eq!(tinyglib_g_str_hash(c"\xff".as_ptr().cast()), 177572);
            assert_eq!(tinyglib_g_str_hash(c"ostype".as_ptr().cast()), 321802761);
            assert_eq!(
                tinyglib_g_direct_hash(0x1234_5678_9abc_usize as gconstpointer),
                0x5678_9abc
            );
            let big: i64 = 1 << 32;
            assert_eq!(
                tinyglib_g_int64_hash(&big as *const i64 as gconstpointer),
                0
            );
            assert_eq!(
                tinyglib_g_str_equal(c"x".as_ptr().cast(), c"y".as_ptr().cast()),
                0
            );
        }
    }

    #[test]
    fn strings() {
        // SAFETY: valid strings and buffers of the stated sizes; results freed once.
        unsafe {
            let p = tinyglib_g_strndup(c"abcdef".as_ptr(), 3);
            assert_eq!(s(p), b"abc");
            crate::tinyglib_g_free(p.cast());
            let p = tinyglib_g_strndup(c"ab".as_ptr(), 100);
            assert_eq!(s(p), b"ab");
            assert!((2..101).all(|i| *p.add(i) == 0));
            crate::tinyglib_g_free(p.cast());
            let p = tinyglib_g_strndup(c"ab".as_ptr(), 0);
            assert_eq!(s(p), b"");
            crate::tinyglib_g_free(p.cast());
            assert!(tinyglib_g_strndup(core::ptr::null(), 3).is_null());
            assert!(tinyglib_g_ascii_strdown(core::ptr::null(), 3).is_null());
            let p = tinyglib_g_ascii_strdown(c"AbC\xc3Z".as_ptr(), -1);
            assert_eq!(s(p), b"abc\xc3z");
            crate::tinyglib_g_free(p.cast());
            let p = tinyglib_g_ascii_strdown(c"ABCD".as_ptr(), 2);
            assert_eq!(s(p), b"ab");
            crate::tinyglib_g_free(p.cast());

            let mut b = [0 as gchar; 8];
            assert_eq!(tinyglib_g_strlcat(b.as_mut_ptr(), c"info".as_ptr(), 5), 4);
            assert_eq!(s(b.as_ptr()), b"info");
            b = [0; 8];
            assert_eq!(tinyglib_g_strlcat(b.as_mut_ptr(), c"infoX".as_ptr(), 5), 5);
            assert_eq!(s(b.as_ptr()), b"info");
            let mut u = [b'z' as gchar; 8];
            assert_eq!(tinyglib_g_strlcat(u.as_mut_ptr(), c"ab".as_ptr(), 5), 7);
            assert_eq!(tinyglib_g_strlcpy(u.as_mut_ptr(), c"abc".as_ptr(), 0), 3);
            assert_eq!(u[0], b'z' as gchar);
            assert_eq!(
                tinyglib_g_strlcpy(core::ptr::null_mut(), c"abc".as_ptr(), 3),
                0
            );
            assert_eq!(tinyglib_g_strlcat(u.as_mut_ptr(), core::ptr::null(), 3), 0);
            assert!(tinyglib_g_stpcpy(core::ptr::null_mut(), c"a".as_ptr()).is_null());
            assert!(tinyglib_g_strcmp0(c"a".as_ptr(), c"c".as_ptr()) < 0);
            assert_eq!(tinyglib_g_strcmp0(c"a".as_ptr(), core::ptr::null()), 1);
        }
    }
}
