//! Reading and writing guest memory: bytes into caller buffers, fixed-width integers,
//! address-width values, C strings and Windows `UNICODE_STRING`s.
//!
//! Every access takes an [`AccessContext`]; the `_pa`/`_va`/`_ksym` methods are shorthands.
//! The read paths do not allocate: bytes go straight from LibVMI into the caller's buffer
//! (integers through a stack array). Guest integers are little-endian (x86, ARM).

use crate::addr::{AccessContext, Pa, Pid, Va, PAGE_SIZE};
use crate::error::{Error, Result};
use crate::ffi::RawAccessContext;
use crate::instance::Vmi;
use libvmi_sys as sys;

/// `UNICODE_STRING.Length` is a `u16`: at most this many bytes.
const MAX_UNICODE_BYTES: usize = u16::MAX as usize;

impl Vmi {
    /// Read `buf.len()` bytes at `ctx` into `buf` (`vmi_read`).
    ///
    /// On failure, [`Error::Read`] says where and how many bytes (`done`) at the start of
    /// `buf` were read.
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut buf = [0u8; 64];
    /// vmi.read(AccessContext::pid(Va(0x40_0000), Pid(1)), &mut buf)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read(&self, ctx: AccessContext, buf: &mut [u8]) -> Result<()> {
        let done = self.read_partial(ctx, buf)?;
        if done != buf.len() {
            return Err(Error::Read {
                ctx,
                len: buf.len(),
                done,
            });
        }
        Ok(())
    }

    /// Read as much of `buf` as possible: returns how many bytes were read (`vmi_read`
    /// stops at the first unmapped page). Only argument errors are errors.
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut buf = [0u8; 3 * 4096];
    /// let n = vmi.read_partial(AccessContext::pid(Va(0x40_0000), Pid(1)), &mut buf)?;
    /// let mapped = &buf[..n]; // up to the first unmapped page
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_partial(&self, ctx: AccessContext, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let raw = RawAccessContext::new(&ctx)?;
        let mut done: usize = 0;
        // SAFETY: live handle; `raw` is a valid access_context_t; `buf` is writable for
        // `buf.len()` bytes and LibVMI writes at most that many; `done` is an out-pointer.
        unsafe {
            sys::vmi_read(
                self.as_raw(),
                raw.as_ptr(),
                buf.len(),
                buf.as_mut_ptr().cast(),
                &mut done,
            );
        }
        Ok(done.min(buf.len()))
    }

    /// Read physical memory (`vmi_read_pa`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let mut page = [0u8; 4096];
    /// vmi.read_pa(libvmi::Pa(0x9f000), &mut page)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_pa(&self, pa: Pa, buf: &mut [u8]) -> Result<()> {
        self.read(AccessContext::physical(pa), buf)
    }

    /// Read virtual memory of process `pid` ([`Pid::KERNEL`] for the kernel)
    /// (`vmi_read_va`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut elf = [0u8; 4];
    /// vmi.read_va(Va(0x40_0000), Pid(1), &mut elf)?;
    /// assert_eq!(&elf, b"\x7fELF");
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_va(&self, va: Va, pid: Pid, buf: &mut [u8]) -> Result<()> {
        self.read(AccessContext::pid(va, pid), buf)
    }

    /// Read kernel memory at a symbol (`vmi_read_ksym`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut banner = [0u8; 64];
    /// vmi.read_ksym("linux_banner", &mut banner)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_ksym(&self, symbol: &str, buf: &mut [u8]) -> Result<()> {
        let va = self.translate_ksym2v(symbol)?;
        self.read(AccessContext::kernel(va), buf)
    }

    #[inline]
    fn read_array<const N: usize>(&self, ctx: AccessContext) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read(ctx, &mut b)?;
        Ok(b)
    }

    /// Read a `u8` (`vmi_read_8`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pa};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let byte = vmi.read_u8(AccessContext::physical(Pa(0x9_fc00)))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_u8(&self, ctx: AccessContext) -> Result<u8> {
        Ok(self.read_array::<1>(ctx)?[0])
    }

    /// Read a little-endian `u16` (`vmi_read_16`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let e_type = vmi.read_u16(AccessContext::pid(Va(0x40_0010), Pid(1)))?; // ELF header
    /// assert!(e_type == 2 || e_type == 3); // ET_EXEC or ET_DYN
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_u16(&self, ctx: AccessContext) -> Result<u16> {
        self.read_array(ctx).map(u16::from_le_bytes)
    }

    /// Read a little-endian `u32` (`vmi_read_32`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// let pid = vmi.read_u32(AccessContext::kernel(init_task + vmi.offset("linux_pid")?))?;
    /// assert_eq!(pid, 0);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_u32(&self, ctx: AccessContext) -> Result<u32> {
        self.read_array(ctx).map(u32::from_le_bytes)
    }

    /// Read a little-endian `u64` (`vmi_read_64`).
    ///
    /// ```no_run
    /// use libvmi::AccessContext;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let jiffies = vmi.translate_ksym2v("jiffies_64")?;
    /// let ticks = vmi.read_u64(AccessContext::kernel(jiffies))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_u64(&self, ctx: AccessContext) -> Result<u64> {
        self.read_array(ctx).map(u64::from_le_bytes)
    }

    /// Read a guest pointer-sized value (`vmi_read_addr`): 8 bytes in 64-bit paging
    /// modes, 4 otherwise.
    ///
    /// ```no_run
    /// use libvmi::AccessContext;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// let next = vmi.read_addr(AccessContext::kernel(init_task + vmi.offset("linux_tasks")?))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_addr(&self, ctx: AccessContext) -> Result<u64> {
        if self.address_width() == 4 {
            self.read_u32(ctx).map(u64::from)
        } else {
            self.read_u64(ctx)
        }
    }

    /// Read a guest pointer as a virtual address ([`Vmi::read_addr`]).
    ///
    /// ```no_run
    /// use libvmi::AccessContext;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let tasks = vmi.offset("linux_tasks")?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// let next_task = vmi.read_ptr(AccessContext::kernel(init_task + tasks))? - tasks;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn read_ptr(&self, ctx: AccessContext) -> Result<Va> {
        self.read_addr(ctx).map(Va)
    }

    /// Read a `u64` at a kernel symbol (`vmi_read_64_ksym`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let ticks = vmi.read_u64_ksym("jiffies_64")?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_u64_ksym(&self, symbol: &str) -> Result<u64> {
        let va = self.translate_ksym2v(symbol)?;
        self.read_u64(AccessContext::kernel(va))
    }

    /// Read a pointer-sized value at a kernel symbol (`vmi_read_addr_ksym`).
    ///
    /// ```no_run
    /// use libvmi::Va;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let modules_next = Va(vmi.read_addr_ksym("modules")?); // list_head.next
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_addr_ksym(&self, symbol: &str) -> Result<u64> {
        let va = self.translate_ksym2v(symbol)?;
        self.read_addr(AccessContext::kernel(va))
    }

    /// Read a NUL-terminated string into `buf` without allocating; returns the bytes
    /// before the NUL. Reads page by page, so it never touches memory past the string.
    /// No NUL within `buf.len()` bytes is an [`Error::GuestData`].
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let mut buf = [0u8; 16];
    /// let comm = vmi.read_cstr_into(AccessContext::kernel(Va(0xffff_ffff_8261_4c80)), &mut buf)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstr_into<'b>(&self, ctx: AccessContext, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let mut pos = 0usize;
        while pos < buf.len() {
            let here = ctx.offset(pos as u64);
            let to_page_end = (PAGE_SIZE - (here.address() & (PAGE_SIZE - 1))) as usize;
            let n = to_page_end.min(buf.len() - pos);
            let chunk = &mut buf[pos..pos + n];
            if let Err(Error::Read { done, .. }) = self.read(here, chunk) {
                return Err(Error::Read {
                    ctx,
                    len: pos + n,
                    done: pos + done,
                });
            }
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                return Ok(&buf[..pos + nul]);
            }
            pos += n;
        }
        Err(Error::guest(
            "C string",
            ctx.is_virtual().then(|| Va(ctx.address())),
            format!("no NUL within {} bytes at {ctx}", buf.len()),
        ))
    }

    /// Read a NUL-terminated string of at most `max_len` bytes (`vmi_read_str`), decoding
    /// it as UTF-8 (invalid sequences replaced).
    ///
    /// ```no_run
    /// use libvmi::AccessContext;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// let comm = vmi.read_cstring(AccessContext::kernel(init_task + vmi.offset("linux_name")?), 16)?;
    /// assert_eq!(comm, "swapper/0");
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstring(&self, ctx: AccessContext, max_len: usize) -> Result<String> {
        let mut buf = vec![0u8; max_len.saturating_add(1)];
        let bytes = self.read_cstr_into(ctx, &mut buf)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// Read a C string in the address space of `pid` (`vmi_read_str_va`), at most
    /// `max_len` bytes.
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let arg0 = vmi.read_cstring_va(Va(0x7ffd_1234_5000), Pid(1), 4096)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstring_va(&self, va: Va, pid: Pid, max_len: usize) -> Result<String> {
        self.read_cstring(AccessContext::pid(va, pid), max_len)
    }

    /// Read a C string at physical address `pa` (`vmi_read_str_pa`), at most `max_len`
    /// bytes.
    ///
    /// ```no_run
    /// use libvmi::Pa;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init_driver()?;
    /// let text = vmi.read_cstring_pa(Pa(0x9_f000), 256)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstring_pa(&self, pa: Pa, max_len: usize) -> Result<String> {
        self.read_cstring(AccessContext::physical(pa), max_len)
    }

    /// Read a C string at a kernel symbol (`vmi_read_str_ksym`), at most `max_len` bytes.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let banner = vmi.read_cstring_ksym("linux_banner", 256)?;
    /// assert!(banner.starts_with("Linux version"));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_cstring_ksym(&self, symbol: &str, max_len: usize) -> Result<String> {
        let va = self.translate_ksym2v(symbol)?;
        self.read_cstring(AccessContext::kernel(va), max_len)
    }

    /// Read a Windows `UNICODE_STRING` structure at `ctx` and the UTF-16LE text it points
    /// to, as a Rust string: what `vmi_read_unicode_str` + `vmi_convert_str_encoding` to
    /// UTF-8 do, done here for any guest OS (upstream's reads Windows guests only) and
    /// without iconv. The buffer is read with the same translation as `ctx`; a broken
    /// header (odd `Length`, `Length` above `MaximumLength`, NULL `Buffer`) is an
    /// [`Error::GuestData`].
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Va};
    /// # let vmi = libvmi::Vmi::xen("win10").init()?;
    /// let name = vmi.read_unicode_string(AccessContext::kernel(Va(0xfffff800_12345678)))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_unicode_string(&self, ctx: AccessContext) -> Result<String> {
        let width = usize::from(self.address_width().max(4));
        let mut header = [0u8; 16];
        let header = &mut header[..2 * width];
        self.read(ctx, header)?;
        let (len, buffer) = parse_unicode_header(header, width)
            .map_err(|detail| Error::guest("UNICODE_STRING", None, format!("{detail} at {ctx}")))?;
        let mut units = vec![0u16; len / 2];
        let mut bytes = vec![0u8; len];
        let text_ctx = match ctx {
            AccessContext::Physical(_) => AccessContext::Physical(Pa(buffer)),
            AccessContext::Virtual(_, t) => AccessContext::Virtual(Va(buffer), t),
        };
        self.read(text_ctx, &mut bytes)?;
        for (u, b) in units.iter_mut().zip(bytes.chunks_exact(2)) {
            *u = u16::from_le_bytes([b[0], b[1]]);
        }
        Ok(String::from_utf16_lossy(&units))
    }

    /// Read a `UNICODE_STRING` in the address space of `pid` (`vmi_read_unicode_str_va`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("win10").init()?;
    /// let image_path = vmi.read_unicode_string_va(Va(0x1_2345_6060), Pid(4242))?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn read_unicode_string_va(&self, va: Va, pid: Pid) -> Result<String> {
        self.read_unicode_string(AccessContext::pid(va, pid))
    }

    /// Write `data` at `ctx` (`vmi_write`). On failure, [`Error::Write`] says where and
    /// how many bytes were written.
    ///
    /// In File mode the write goes to the image file itself, in place (upstream's File
    /// driver has no writes; `libvmi-sys` supplies them): write to a copy to keep the
    /// original.
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let ctx = AccessContext::pid(Va(0x40_1000), Pid(1234));
    /// vmi.write(ctx, &[0xcc])?; // an INT3
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write(&self, ctx: AccessContext, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let raw = RawAccessContext::new(&ctx)?;
        let mut done: usize = 0;
        // SAFETY: live handle; `raw` is a valid access_context_t; LibVMI only reads
        // `data.len()` bytes from the buffer (the C prototype lacks `const`).
        let status = unsafe {
            sys::vmi_write(
                self.as_raw(),
                raw.as_ptr(),
                data.len(),
                data.as_ptr().cast_mut().cast(),
                &mut done,
            )
        };
        if status != sys::VMI_SUCCESS || done != data.len() {
            return Err(Error::Write {
                ctx,
                len: data.len(),
                done: done.min(data.len()),
            });
        }
        Ok(())
    }

    /// Write physical memory (`vmi_write_pa`).
    ///
    /// ```no_run
    /// use libvmi::Pa;
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.write_pa(Pa(0x9_f000), b"hello")?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_pa(&self, pa: Pa, data: &[u8]) -> Result<()> {
        self.write(AccessContext::physical(pa), data)
    }

    /// Write virtual memory of `pid` (`vmi_write_va`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.write_va(Va(0x40_1000), Pid(1234), &[0x90, 0x90])?; // two NOPs
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_va(&self, va: Va, pid: Pid, data: &[u8]) -> Result<()> {
        self.write(AccessContext::pid(va, pid), data)
    }

    /// Write kernel memory at a symbol (`vmi_write_ksym`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.write_ksym("panic_on_oops", &1u32.to_le_bytes())?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_ksym(&self, symbol: &str, data: &[u8]) -> Result<()> {
        let va = self.translate_ksym2v(symbol)?;
        self.write(AccessContext::kernel(va), data)
    }

    /// Write a `u8` (`vmi_write_8`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.write_u8(AccessContext::pid(Va(0x40_1000), Pid(1234)), 0xcc)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_u8(&self, ctx: AccessContext, value: u8) -> Result<()> {
        self.write(ctx, &[value])
    }

    /// Write a little-endian `u16` (`vmi_write_16`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pa};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// vmi.write_u16(AccessContext::physical(Pa(0x9_f000)), 0xbeef)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_u16(&self, ctx: AccessContext, value: u16) -> Result<()> {
        self.write(ctx, &value.to_le_bytes())
    }

    /// Write a little-endian `u32` (`vmi_write_32`).
    ///
    /// ```no_run
    /// use libvmi::AccessContext;
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let va = vmi.translate_ksym2v("panic_on_oops")?;
    /// vmi.write_u32(AccessContext::kernel(va), 1)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_u32(&self, ctx: AccessContext, value: u32) -> Result<()> {
        self.write(ctx, &value.to_le_bytes())
    }

    /// Write a little-endian `u64` (`vmi_write_64`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pa};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let ctx = AccessContext::physical(Pa(0x9_f000));
    /// vmi.write_u64(ctx, 0x1122_3344_5566_7788)?;
    /// assert_eq!(vmi.read_u64(ctx)?, 0x1122_3344_5566_7788);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_u64(&self, ctx: AccessContext, value: u64) -> Result<()> {
        self.write(ctx, &value.to_le_bytes())
    }

    /// Write a pointer-sized value (`vmi_write_addr`); a value that does not fit a 32-bit
    /// guest's pointer is an [`Error::InvalidArgument`].
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Va};
    /// # let vmi = libvmi::Vmi::xen("debian").init()?;
    /// let slot = AccessContext::kernel(Va(0xffff_ffff_8260_0950));
    /// vmi.write_addr(slot, 0xffff_ffff_8260_0950)?; // an empty list_head.next points to itself
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn write_addr(&self, ctx: AccessContext, value: u64) -> Result<()> {
        if self.address_width() == 4 {
            let v = u32::try_from(value).map_err(|_| Error::InvalidArgument {
                what: "address",
                reason: format!("{value:#x} does not fit a 32-bit guest pointer"),
            })?;
            self.write_u32(ctx, v)
        } else {
            self.write_u64(ctx, value)
        }
    }
}

/// `UNICODE_STRING { u16 Length; u16 MaximumLength; [pad]; PWSTR Buffer; }` for a pointer
/// width of 4 or 8: returns (byte length, buffer address).
pub(crate) fn parse_unicode_header(header: &[u8], width: usize) -> Result<(usize, u64), String> {
    if header.len() < 2 * width || !(width == 4 || width == 8) {
        return Err("short UNICODE_STRING header".into());
    }
    let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
    let max = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let buffer = if width == 8 {
        u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"))
    } else {
        u64::from(u32::from_le_bytes(
            header[4..8].try_into().expect("4 bytes"),
        ))
    };
    if len % 2 != 0 {
        return Err(format!("odd Length {len}"));
    }
    if len > max && max != 0 {
        return Err(format!("Length {len} exceeds MaximumLength {max}"));
    }
    debug_assert!(len <= MAX_UNICODE_BYTES);
    if len > 0 && buffer == 0 {
        return Err("NULL Buffer with non-zero Length".into());
    }
    Ok((len, buffer))
}

#[cfg(test)]
mod tests {
    use super::parse_unicode_header;

    #[test]
    fn unicode_headers() {
        let mut h = [0u8; 16];
        h[0..2].copy_from_slice(&10u16.to_le_bytes());
        h[2..4].copy_from_slice(&12u16.to_le_bytes());
        h[8..16].copy_from_slice(&0xffff_8000_0000_1000u64.to_le_bytes());
        assert_eq!(parse_unicode_header(&h, 8), Ok((10, 0xffff_8000_0000_1000)));
        let mut h32 = [0u8; 8];
        h32[0..2].copy_from_slice(&4u16.to_le_bytes());
        h32[2..4].copy_from_slice(&4u16.to_le_bytes());
        h32[4..8].copy_from_slice(&0x8000_1000u32.to_le_bytes());
        assert_eq!(parse_unicode_header(&h32, 4), Ok((4, 0x8000_1000)));
        h[0] = 11;
        assert!(parse_unicode_header(&h, 8).is_err());
        h[0] = 14;
        assert!(parse_unicode_header(&h, 8).is_err());
        let zero = [0u8; 16];
        assert_eq!(parse_unicode_header(&zero, 8), Ok((0, 0)));
    }
}
