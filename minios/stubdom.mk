# TinyVMI targets for Xen's stubdom/Makefile (Xen 4.17 and 4.20). Append to stubdom/Makefile
# (or `include` this file at its end), then:
#
#   make -C $XEN_ROOT/stubdom tinyvmi-stubdom TINYVMI_DIR=/path/to/tinyvmi \
#        TINYVMI_SYSMAP=/path/to/System.map TINYVMI_OFFSETS='linux_tasks = 0x...; ...'
#
# `tinyvmi` builds libtinyvmi.a with cargo against this Xen tree's Mini-OS and newlib
# headers (XEN_ROOT), and compiles the example's main.c with the stubdom flags;
# `tinyvmi-stubdom` links them into a Mini-OS image (mini-os-x86_64-tinyvmi/mini-os.gz).

TINYVMI_DIR ?= $(error set TINYVMI_DIR to the TinyVMI checkout)
TINYVMI_SYSMAP ?= $(error set TINYVMI_SYSMAP to the target kernel's System.map)
TINYVMI_OFFSETS ?= $(error set TINYVMI_OFFSETS to the target's linux_* config entries)
TINYVMI_TARGET_DIR ?= $(CURDIR)/tinyvmi-target
TINYVMI_PROFILE_DIR = $(TINYVMI_TARGET_DIR)/x86_64-unknown-none/release
TINYVMI_APP = $(CURDIR)/tinyvmi-app
CARGO ?= cargo

TINYVMI_CONFIG = CONFIG_LIBXENTOOLCORE CONFIG_LIBXENTOOLLOG CONFIG_LIBXENEVTCHN \
	CONFIG_LIBXENGNTTAB CONFIG_LIBXENCALL CONFIG_LIBXENFOREIGNMEMORY \
	CONFIG_LIBXENDEVICEMODEL CONFIG_LIBXENCTRL

mini-os-$(XEN_TARGET_ARCH)-tinyvmi:
	[ -d $@ ] || \
	for i in $$(cd $(MINI_OS) ; find . -type d) ; do \
		mkdir -p $@/$$i ; \
	done

# The archive and the application object. The newlib headers of the cross root must
# exist (cross-root target), since the C side is compiled against them.
.PHONY: tinyvmi
tinyvmi: $(CROSS_ROOT)
	XEN_ROOT="$(XEN_ROOT)" MINIOS_ROOT="$(MINI_OS)" CARGO_TARGET_DIR="$(TINYVMI_TARGET_DIR)" \
		$(CARGO) build --release --target x86_64-unknown-none -p tinyvmi \
		--manifest-path "$(TINYVMI_DIR)/Cargo.toml"
	mkdir -p $(TINYVMI_APP)
	$(CC) $(TARGET_CPPFLAGS) $(TARGET_CFLAGS) $(foreach c,$(TINYVMI_CONFIG),-D$(c)) \
		-I$(TINYVMI_PROFILE_DIR)/include \
		-DTINYVMI_SYSMAP='"$(TINYVMI_SYSMAP)"' -DTINYVMI_OFFSETS='"$(TINYVMI_OFFSETS)"' \
		-c "$(TINYVMI_DIR)/minios/example/main.c" -o $(TINYVMI_APP)/main.o
	cp $(TINYVMI_PROFILE_DIR)/libtinyvmi.a $(TINYVMI_APP)/libtinyvmi.a

# Same shape as c-stubdom's rule, with its library prerequisite (libxenguest, which
# builds libxenctrl first; the same in Xen 4.17 and 4.20). Mini-OS 4.17 always links
# libxenguest into a libc application; 4.20 only with CONFIG_LIBXENGUEST=y (not set in
# example/minios.cfg), so there it is built but not linked. If your Xen's c-stubdom rule
# lists other library prerequisites (they vary between releases), use the same ones here.
.PHONY: tinyvmi-stubdom
tinyvmi-stubdom: mini-os-$(XEN_TARGET_ARCH)-tinyvmi libxenguest tinyvmi
	DEF_CPPFLAGS="$(TARGET_CPPFLAGS)" DEF_CFLAGS="$(TARGET_CFLAGS)" DEF_LDFLAGS="$(TARGET_LDFLAGS)" \
	MINIOS_CONFIG="$(TINYVMI_DIR)/minios/example/minios.cfg" \
	$(MAKE) DESTDIR= -C $(MINI_OS) OBJ_DIR=$(CURDIR)/$< \
		APP_OBJS="$(TINYVMI_APP)/main.o $(TINYVMI_APP)/libtinyvmi.a"

.PHONY: install-tinyvmi
install-tinyvmi: tinyvmi-stubdom
	$(INSTALL_DIR) "$(DESTDIR)$(XENFIRMWAREDIR)"
	$(INSTALL_DATA) mini-os-$(XEN_TARGET_ARCH)-tinyvmi/mini-os.gz "$(DESTDIR)$(XENFIRMWAREDIR)/tinyvmi-stubdom.gz"
