/*
 * Compile-time shim for upstream LibVMI: libvmi/accessors.c alone is compiled with
 * -Dvmi_read_8_pa=libvmi_sys_validate_8_pa (see build/main.rs). Its only calls of
 * vmi_read_8_pa are the two v2p-cache validations: a cached translation is returned only
 * after one byte at its physical address was read.
 *
 * Through vmi_read that one byte costs about 150 instructions (access-context switch,
 * page loop, vmi_read_page, the driver, a copy): more than a third of a warm translation.
 * In File mode the driver's page is libvmi_sys_file_map_page (csrc/file_driver.c), so the
 * same check is that call and a load: same pages readable, same byte, same result.
 * Every other mode reads through upstream's vmi_read_8_pa.
 */
#include "private.h"

status_t libvmi_sys_validate_8_pa(vmi_instance_t vmi, addr_t paddr, uint8_t *value);

#ifdef ENABLE_FILE
void *libvmi_sys_file_map_page(vmi_instance_t vmi, addr_t paddr);
#endif

status_t libvmi_sys_validate_8_pa(vmi_instance_t vmi, addr_t paddr, uint8_t *value)
{
#ifdef ENABLE_FILE
    if (vmi && value && vmi->mode == VMI_FILE) {
        /* vmi_read -> vmi_read_page(pfn) -> file_read_page -> this, for the page. */
        addr_t page = (paddr >> vmi->page_shift) << vmi->page_shift;
        const uint8_t *p = libvmi_sys_file_map_page(vmi, page);
        if (!p)
            return VMI_FAILURE;
        *value = p[paddr - page];
        return VMI_SUCCESS;
    }
#endif
    return vmi_read_8_pa(vmi, paddr, value);
}
