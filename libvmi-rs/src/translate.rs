//! Address translation: virtual to physical, kernel and user symbols both ways, pid ↔
//! page table, page-table lookups and the list of mapped pages.

use crate::addr::{AccessContext, Dtb, Pa, Pid, Translation, Va};
use crate::error::{Error, Result};
use crate::ffi::{self, RawAccessContext};
use crate::instance::{PageMode, Vmi};
use core::ffi::{c_char, CStr};
use libvmi_sys as sys;

/// One mapped page, from [`Vmi::pagetable_lookup_extended`] or [`Vmi::va_pages`].
///
/// ```
/// use libvmi::{Dtb, Pa, PageInfo, PageMode, Va};
/// let p = PageInfo { va: Va(0x40_0000), pa: Pa(0x1234_5000), size: 4096, dtb: Dtb(0x10_a000), page_mode: PageMode::Ia32e };
/// assert_eq!(p.pa_of(Va(0x40_0010)), Some(Pa(0x1234_5010)));
/// assert_eq!(p.pa_of(Va(0x40_1000)), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PageInfo {
    /// The page's virtual address (its first byte for `va_pages`, the looked-up address
    /// for lookups).
    pub va: Va,
    /// The physical address `va` maps to.
    pub pa: Pa,
    /// The page size in bytes (4 KiB, 2 MiB, 1 GiB, ...).
    pub size: u64,
    /// The page table used.
    pub dtb: Dtb,
    /// The paging mode used.
    pub page_mode: PageMode,
}

impl PageInfo {
    /// The physical address of `va` if it lies in this page.
    ///
    /// ```
    /// use libvmi::{Dtb, Pa, PageInfo, PageMode, Va};
    /// // A 2 MiB page:
    /// let page = PageInfo { va: Va(0x20_0000), pa: Pa(0x4000_0000), size: 0x20_0000, dtb: Dtb(0x10_a000), page_mode: PageMode::Ia32e };
    /// assert_eq!(page.pa_of(Va(0x21_2345)), Some(Pa(0x4001_2345)));
    /// assert_eq!(page.pa_of(Va(0x40_0000)), None);
    /// ```
    #[must_use]
    pub fn pa_of(&self, va: Va) -> Option<Pa> {
        let base = self.va.raw() & !(self.size.wrapping_sub(1));
        let off = va.raw().wrapping_sub(base);
        (self.size != 0 && off < self.size)
            .then(|| Pa((self.pa.raw() & !(self.size - 1)).wrapping_add(off)))
    }

    fn from_raw(p: &sys::page_info_t) -> PageInfo {
        PageInfo {
            va: Va(p.vaddr),
            pa: Pa(p.paddr),
            size: p.size as u64,
            dtb: Dtb(p.pt),
            page_mode: PageMode::from_raw(p.pm),
        }
    }
}

/// Turn a LibVMI `const char *` it owns into a `String` (copying).
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string valid for the duration of the call.
unsafe fn borrowed_c_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl Vmi {
    /// Translate a kernel virtual address (`vmi_translate_kv2p`).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let va = vmi.translate_ksym2v("init_task")?;
    /// let pa = vmi.translate_kv2p(va)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn translate_kv2p(&self, va: Va) -> Result<Pa> {
        let mut pa: sys::addr_t = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe { sys::vmi_translate_kv2p(self.as_raw(), va.0, &mut pa) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Translate {
                va,
                via: Translation::Kernel,
            });
        }
        Ok(Pa(pa))
    }

    /// Translate a virtual address of process `pid` (`vmi_translate_uv2p`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let pa = vmi.translate_uv2p(Va(0x40_0000), Pid(1))?;
    /// assert_eq!(pa.page_offset(), 0);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn translate_uv2p(&self, va: Va, pid: Pid) -> Result<Pa> {
        self.require_os("vmi_translate_uv2p")?;
        if pid.0 < 0 {
            return Err(Error::Pid { pid });
        }
        let mut pa: sys::addr_t = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe { sys::vmi_translate_uv2p(self.as_raw(), va.0, pid.0, &mut pa) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Translate {
                va,
                via: Translation::Pid(pid),
            });
        }
        Ok(Pa(pa))
    }

    /// Translate any access context to a physical address (physical ones are returned
    /// as they are).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pa, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let pa = vmi.translate(AccessContext::kernel(Va(0xffff_ffff_8100_0000)))?;
    /// assert_eq!(vmi.translate(AccessContext::physical(Pa(0x9000)))?, Pa(0x9000));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn translate(&self, ctx: AccessContext) -> Result<Pa> {
        match ctx {
            AccessContext::Physical(pa) => Ok(pa),
            AccessContext::Virtual(va, Translation::Kernel) => self.translate_kv2p(va),
            AccessContext::Virtual(va, Translation::Pid(pid)) => self.translate_uv2p(va, pid),
            AccessContext::Virtual(va, Translation::Dtb(dtb)) => self.pagetable_lookup(dtb, va),
        }
    }

    /// The address of a kernel symbol (`vmi_translate_ksym2v`; from System.map or the
    /// profile, with the KASLR offset applied).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let init_task = vmi.translate_ksym2v("init_task")?;
    /// assert!(matches!(vmi.translate_ksym2v("no_such_symbol"), Err(libvmi::Error::Symbol { .. })));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn translate_ksym2v(&self, symbol: &str) -> Result<Va> {
        self.require_os("vmi_translate_ksym2v")?;
        let mut va: sys::addr_t = 0;
        let status = ffi::with_cstr(symbol, "symbol", |s| {
            // SAFETY: live handle, NUL-terminated symbol, valid out-pointer.
            unsafe { sys::vmi_translate_ksym2v(self.as_raw(), s, &mut va) }
        })?;
        if status != sys::VMI_SUCCESS {
            return Err(Error::Symbol {
                symbol: symbol.into(),
            });
        }
        Ok(Va(va))
    }

    /// The address of `symbol` exported by the user-space module (ELF/PE image) loaded at
    /// `base` in the address space `via` (`vmi_translate_sym2v`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Translation, Va};
    /// # let vmi = libvmi::Vmi::xen("win10").init()?;
    /// let ntdll = Va(0x7ffb_1234_0000); // where ntdll.dll is loaded in pid 4242
    /// let f = vmi.translate_sym2v(ntdll, Translation::Pid(Pid(4242)), "NtCreateFile")?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn translate_sym2v(&self, base: Va, via: Translation, symbol: &str) -> Result<Va> {
        self.require_os("vmi_translate_sym2v")?;
        let raw = RawAccessContext::new(&AccessContext::Virtual(base, via))?;
        let mut va: sys::addr_t = 0;
        let status = ffi::with_cstr(symbol, "symbol", |s| {
            // SAFETY: live handle, valid context, NUL-terminated symbol, out-pointer.
            unsafe { sys::vmi_translate_sym2v(self.as_raw(), raw.as_ptr(), s, &mut va) }
        })?;
        if status != sys::VMI_SUCCESS {
            return Err(Error::UserSymbol {
                symbol: symbol.into(),
                base,
                via,
            });
        }
        Ok(Va(va))
    }

    /// The symbol at relative address `rva` in the module loaded at `base` in the address
    /// space `via` (`vmi_translate_v2sym`).
    ///
    /// ```no_run
    /// use libvmi::{Pid, Translation, Va};
    /// # let vmi = libvmi::Vmi::xen("win10").init()?;
    /// let ntdll = Va(0x7ffb_1234_0000);
    /// let name = vmi.translate_v2sym(ntdll, Translation::Pid(Pid(4242)), 0x9_d5e0)?;
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn translate_v2sym(&self, base: Va, via: Translation, rva: u64) -> Result<String> {
        self.require_os("vmi_translate_v2sym")?;
        let via_raw = match via {
            Translation::Kernel => Translation::Pid(Pid::KERNEL),
            other => other,
        };
        let raw = RawAccessContext::new(&AccessContext::Virtual(base, via_raw))?;
        // SAFETY: live handle, valid context. The returned string is owned by LibVMI's
        // RVA cache and is copied at once.
        unsafe { borrowed_c_str(sys::vmi_translate_v2sym(self.as_raw(), raw.as_ptr(), rva)) }.ok_or(
            Error::NoSymbolAt {
                va: base + rva,
                via,
            },
        )
    }

    /// The kernel symbol at exactly `va` (`vmi_translate_v2ksym`; Linux: System.map).
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let va = vmi.translate_ksym2v("init_task")?;
    /// assert_eq!(vmi.translate_v2ksym(va)?, "init_task");
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn translate_v2ksym(&self, va: Va) -> Result<String> {
        self.require_os("vmi_translate_v2ksym")?;
        let raw = RawAccessContext::new(&AccessContext::pid(Va(0), Pid::KERNEL))?;
        // SAFETY: live handle, valid context. The returned string is owned by LibVMI's
        // RVA cache and is copied at once.
        unsafe { borrowed_c_str(sys::vmi_translate_v2ksym(self.as_raw(), raw.as_ptr(), va.0)) }
            .ok_or(Error::NoSymbolAt {
                va,
                via: Translation::Kernel,
            })
    }

    /// The page table of process `pid` (`vmi_pid_to_dtb`); pid 0 is the kernel's.
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// println!("pid 1: page table at {dtb}");
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn pid_to_dtb(&self, pid: Pid) -> Result<Dtb> {
        self.require_os("vmi_pid_to_dtb")?;
        let mut dtb: sys::addr_t = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe { sys::vmi_pid_to_dtb(self.as_raw(), pid.0, &mut dtb) };
        if status != sys::VMI_SUCCESS || dtb == 0 {
            return Err(Error::Pid { pid });
        }
        Ok(Dtb(dtb))
    }

    /// The process whose page table is `dtb` (`vmi_dtb_to_pid`).
    ///
    /// LibVMI's Linux lookup also matches `dtb & !0x1fff` (the KPTI kernel half), which
    /// makes any `dtb` below `0x2000` "match" a kernel thread (no `mm`, page table read as
    /// 0); the answer is therefore checked the other way (`pid_to_dtb`), and a mismatch is
    /// an [`Error::Dtb`].
    ///
    /// ```no_run
    /// use libvmi::Pid;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// assert_eq!(vmi.dtb_to_pid(dtb)?, Pid(1));
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn dtb_to_pid(&self, dtb: Dtb) -> Result<Pid> {
        self.require_os("vmi_dtb_to_pid")?;
        let mut pid: sys::vmi_pid_t = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe { sys::vmi_dtb_to_pid(self.as_raw(), dtb.0, &mut pid) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Dtb { dtb });
        }
        let pid = Pid(pid);
        match self.pid_to_dtb(pid) {
            Ok(back) if back == dtb || back.0 == dtb.0 & !0x1fff => Ok(pid),
            _ => Err(Error::Dtb { dtb }),
        }
    }

    /// Translate `va` through the page table at `dtb` (`vmi_pagetable_lookup`).
    ///
    /// ```no_run
    /// use libvmi::{AccessContext, Pid, Va};
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let dtb = vmi.pid_to_dtb(Pid(1))?;
    /// let pa = vmi.pagetable_lookup(dtb, Va(0x40_0000))?;
    /// assert_eq!(pa, vmi.translate(AccessContext::dtb(Va(0x40_0000), dtb))?);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    #[inline]
    pub fn pagetable_lookup(&self, dtb: Dtb, va: Va) -> Result<Pa> {
        let mut pa: sys::addr_t = 0;
        // SAFETY: live handle, valid out-pointer.
        let status = unsafe { sys::vmi_pagetable_lookup(self.as_raw(), dtb.0, va.0, &mut pa) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Translate {
                va,
                via: Translation::Dtb(dtb),
            });
        }
        Ok(Pa(pa))
    }

    /// Translate `va` through the page table at `dtb`, with the page's size
    /// (`vmi_pagetable_lookup_extended`).
    ///
    /// ```no_run
    /// use libvmi::Va;
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let dtb = vmi.pid_to_dtb(libvmi::Pid::KERNEL)?;
    /// let page = vmi.pagetable_lookup_extended(dtb, Va(0xffff_ffff_8100_0000))?;
    /// println!("{} -> {} in a {}-byte page", page.va, page.pa, page.size);
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn pagetable_lookup_extended(&self, dtb: Dtb, va: Va) -> Result<PageInfo> {
        let mut info: sys::page_info_t = ffi::zeroed();
        // SAFETY: live handle, valid out-pointer to a zeroed page_info_t.
        let status =
            unsafe { sys::vmi_pagetable_lookup_extended(self.as_raw(), dtb.0, va.0, &mut info) };
        if status != sys::VMI_SUCCESS {
            return Err(Error::Translate {
                va,
                via: Translation::Dtb(dtb),
            });
        }
        Ok(PageInfo::from_raw(&info))
    }

    /// Every mapped page of the address space rooted at `dtb` (`vmi_get_va_pages`), in
    /// ascending virtual-address order.
    ///
    /// ```no_run
    /// # let vmi = libvmi::Vmi::file("/images/mem.raw").init()?;
    /// let dtb = vmi.pid_to_dtb(libvmi::Pid(1))?;
    /// for page in vmi.va_pages(dtb)? {
    ///     println!("{} -> {} ({} bytes)", page.va, page.pa, page.size);
    /// }
    /// # Ok::<(), libvmi::Error>(())
    /// ```
    pub fn va_pages(&self, dtb: Dtb) -> Result<Vec<PageInfo>> {
        // SAFETY: live handle. The returned GSList and its page_info_t elements are
        // allocated with the GLib backend LibVMI is linked with, and freed by
        // `crate::glib::free_page_list` below.
        let list = unsafe { sys::vmi_get_va_pages(self.as_raw(), dtb.0) };
        if list.is_null() {
            return Err(Error::Translate {
                va: Va(0),
                via: Translation::Dtb(dtb),
            });
        }
        // SAFETY: `list` is the head of a GSList of page_info_t* returned by LibVMI and
        // not used after this call.
        let mut pages = unsafe { crate::glib::take_page_list(list, PageInfo::from_raw) };
        pages.sort_unstable_by_key(|p| p.va);
        Ok(pages)
    }
}
