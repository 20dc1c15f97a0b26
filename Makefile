# TSKernel: TypeScript -> wasm -> C -> x86-64 kernel -> bootable ISO.
# `make` builds build/os.iso; `make run` boots it; `make test` runs all tests.

BUILD      := build
ASC        := node_modules/.bin/asc
VITEST     := node_modules/.bin/vitest
CLANG      := clang
LD         := ld.lld
NASM       := nasm
WASM2C     := wasm2c
QEMU       := qemu-system-x86_64
QEMU_MEM   ?= 512M
QEMU_FLAGS := -accel tcg -cpu max -m $(QEMU_MEM) -no-reboot \
              -device isa-debug-exit,iobase=0xf4,iosize=0x04
CMDLINE    ?=

# wasm2c's runtime header lives in /usr/src/wasm2c (Debian wabt); the rest of
# the includes are our freestanding stand-ins and clang's own headers.
WASM_RT_INCLUDE := $(firstword $(wildcard /usr/src/wasm2c /usr/include))
CFLAGS := --target=x86_64-unknown-none-elf -std=c11 -O2 -g \
          -ffreestanding -nostdinc -mno-red-zone -mgeneral-regs-only -fno-pic \
          -fno-stack-protector -fno-omit-frame-pointer -mcmodel=kernel \
          -fno-asynchronous-unwind-tables \
          -isystem $(shell $(CLANG) -print-resource-dir 2>/dev/null)/include \
          -Ikernel/arch/x86_64/include -I$(BUILD) -idirafter $(WASM_RT_INCLUDE) \
          -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_SKIP_SIGNAL_RECOVERY=1 \
          -DWASM_RT_USE_STACK_DEPTH_COUNT=0
WARNINGS := -Wall -Werror -Wno-unused-function -Wno-unused-parameter

TS_SOURCES   := $(shell find kernel -name '*.ts')
NATIVE_C     := $(wildcard kernel/arch/x86_64/*.c)
NATIVE_ASM   := $(wildcard kernel/arch/x86_64/*.asm)
BOOT_ASM     := $(wildcard boot/*.asm)
NATIVE_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(NATIVE_C)) \
                $(patsubst %.asm,$(BUILD)/%.o,$(NATIVE_ASM) $(BOOT_ASM))
USER_PROGRAMS := $(patsubst user/%.c,$(BUILD)/user/bin/%,$(wildcard user/*.c))
ROOTFS_FILES  := $(shell find user/rootfs -type f)

.PHONY: all iso run disk debug test bench unit-wasm deps clean memmap
all: iso
iso: $(BUILD)/os.iso

deps:
	@scripts/ensure-deps.sh

node_modules/.package-lock.json: package.json package-lock.json
	@echo "  NPM     ci"
	@npm ci --no-audit --no-fund --loglevel=error

$(BUILD)/kernel.wasm: $(TS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/check-no-gc-alloc.mjs
	@mkdir -p $(@D)
	@echo "  ASC     $@"
	@$(ASC) kernel/main.ts --target kernel
	@echo "  CHECK   no managed allocation in $@"
	@node scripts/check-no-gc-alloc.mjs $@ || (rm -f $@; exit 1)

$(BUILD)/kernel.c: $(BUILD)/kernel.wasm scripts/constant-memory-base.mjs
	@echo "  WASM2C  $@"
	@$(WASM2C) $< -n kernel -o $@
	@node scripts/constant-memory-base.mjs $@ $@ || (rm -f $@; exit 1)

$(BUILD)/kernel.o: $(BUILD)/kernel.c
	@echo "  CC      $@"
	@$(CLANG) $(CFLAGS) -Wno-everything -c $< -o $@

$(BUILD)/kernel/arch/x86_64/%.o: kernel/arch/x86_64/%.c $(BUILD)/kernel.c $(wildcard kernel/arch/x86_64/include/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CLANG) $(CFLAGS) $(WARNINGS) -c $< -o $@

# The vDSO: user code the kernel maps into every process (clock reads
# without a system call), embedded in the kernel by vdso_image.asm.
VDSO_CFLAGS := --target=x86_64-unknown-linux-gnu -O2 -fPIC -ffreestanding -nostdlib \
               -fno-stack-protector -fno-asynchronous-unwind-tables -mno-red-zone

$(BUILD)/vdso.so: kernel/arch/x86_64/vdso/vdso.c linker/vdso.ld
	@mkdir -p $(@D)
	@echo "  VDSO    $@"
	@$(CLANG) $(VDSO_CFLAGS) $(WARNINGS) -c $< -o $(BUILD)/vdso.o
	@$(LD) -shared -T linker/vdso.ld --hash-style=sysv -soname linux-vdso.so.1 -z max-page-size=4096 \
	  --no-undefined -o $@ $(BUILD)/vdso.o

$(BUILD)/kernel/arch/x86_64/vdso_image.o: $(BUILD)/vdso.so

$(BUILD)/%.o: %.asm $(wildcard kernel/arch/x86_64/*.inc)
	@mkdir -p $(@D)
	@echo "  NASM    $@"
	@$(NASM) -f elf64 -g -F dwarf -o $@ $<

$(BUILD)/kernel.elf: $(BUILD)/kernel.o $(NATIVE_OBJS) linker/kernel.ld
	@echo "  LD      $@"
	@$(LD) -T linker/kernel.ld -nostdlib --no-pie -z max-page-size=4096 -o $@ $(BUILD)/kernel.o $(NATIVE_OBJS)

$(BUILD)/kernel.sym: $(BUILD)/kernel.elf $(BUILD)/kernel.wasm scripts/gen-symbols.mjs scripts/wasm-names.mjs
	@echo "  SYMBOLS $@"
	@node scripts/gen-symbols.mjs $(BUILD)/kernel.elf $(BUILD)/kernel.wasm $@

# User programs: unmodified static Linux binaries, built with musl.
$(BUILD)/user/bin/%: user/%.c
	@mkdir -p $(@D)
	@echo "  MUSL    $@"
	@musl-gcc -static -O2 -Wall -o $@ $<

# user/loader.c as every kind of executable besides static (the rule
# above): a static PIE (scripts/musl-static-pie), a PIE with musl's
# dynamic loader, glibc's default (a PIE with glibc's loader), and static
# with an executable stack.
LOADER_VARIANTS := $(addprefix $(BUILD)/user/bin/loader-,static-pie pie glibc execstack)
USER_PROGRAMS += $(LOADER_VARIANTS)

$(BUILD)/user/bin/loader-static-pie: user/loader.c scripts/musl-static-pie
	@mkdir -p $(@D)
	@echo "  MUSL    $@"
	@scripts/musl-static-pie -O2 -Wall -o $@ $<

$(BUILD)/user/bin/loader-pie: user/loader.c
	@mkdir -p $(@D)
	@echo "  MUSL    $@"
	@musl-gcc -fPIE -pie -O2 -Wall -o $@ $<

$(BUILD)/user/bin/loader-glibc: user/loader.c
	@mkdir -p $(@D)
	@echo "  GCC     $@"
	@gcc -O2 -Wall -o $@ $<

# user/threads.c with glibc's threads too (dynamically linked, a PIE).
USER_PROGRAMS += $(BUILD)/user/bin/threads-glibc
$(BUILD)/user/bin/threads-glibc: user/threads.c
	@mkdir -p $(@D)
	@echo "  GCC     $@"
	@gcc -O2 -Wall -o $@ $<

$(BUILD)/user/bin/loader-execstack: user/loader.c
	@mkdir -p $(@D)
	@echo "  MUSL    $@"
	@musl-gcc -static -O2 -Wall -Wl,-z,execstack -o $@ $<

# user/sharing.c linked with glibc (a PIE with glibc's loader and libc.so.6):
# the worker the sharing measurement runs ten of (the static build drives them).
USER_PROGRAMS += $(BUILD)/user/bin/sharing-glibc
$(BUILD)/user/bin/sharing-glibc: user/sharing.c
	@mkdir -p $(@D)
	@echo "  GCC     $@"
	@gcc -O2 -Wall -o $@ $<

# The dynamic loaders (and glibc's libc) of the dynamically linked
# programs, copied into build/libs at their paths from the build host's
# Debian packages: musl's loader, which is also its libc (package musl,
# which musl-tools brings), glibc's loader and libc (libc6), and libgcc_s
# (libgcc-s1), which glibc's pthread_exit and pthread_cancel load to unwind.
HOST_LIBRARIES := /lib/ld-musl-x86_64.so.1 /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 \
  /lib/x86_64-linux-gnu/libgcc_s.so.1
LIBRARIES := $(addprefix $(BUILD)/libs,$(HOST_LIBRARIES))
$(BUILD)/libs/%: /%
	@mkdir -p $(@D)
	@echo "  COPY    $@"
	@cp -L $< $@

# Debian's busybox-static and its applet links (scripts/fetch-busybox.sh),
# fetched once: a tree kept for as long as its binary is there.
BUSYBOX := $(BUILD)/busybox/bin/busybox
$(BUSYBOX):
	@scripts/fetch-busybox.sh $(BUILD)/busybox

# Debian's bash-static as /bin/bash (scripts/fetch-bash.sh), fetched once.
BASH := $(BUILD)/bash/bin/bash
$(BASH):
	@scripts/fetch-bash.sh $(BUILD)/bash

# busybox and bash go last, so that their programs win over any stale one in
# build/user/bin (tests/integration/busybox.test.ts checks that no program
# of ours has an applet's name, bash.test.ts that no applet is bash).
$(BUILD)/initramfs.cpio: $(USER_PROGRAMS) $(LIBRARIES) $(ROOTFS_FILES) $(BUSYBOX) $(BASH) scripts/make-initramfs.mjs
	@echo "  CPIO    $@"
	@node scripts/make-initramfs.mjs $@ $(INITRAMFS_BASE)

# `make iso DEBIAN="/usr/bin/sort coreutils"`: the ISO's initramfs also holds
# these Debian programs (absolute paths on this host) and packages, with the
# libraries ldd names, at their own paths (scripts/add-debian-program).
# build/debian.list holds the last list, rewritten (as make starts) only when
# DEBIAN changes, so that the ISO is rebuilt when the list changes, also to
# nothing.
DEBIAN ?=
INITRAMFS_BASE := /=user/rootfs /bin=$(BUILD)/user/bin /=$(BUILD)/libs /=$(BUILD)/busybox /=$(BUILD)/bash
ISO_INITRAMFS := $(if $(strip $(DEBIAN)),$(BUILD)/initramfs-debian.cpio,$(BUILD)/initramfs.cpio)

$(shell mkdir -p $(BUILD) && (echo '$(strip $(DEBIAN))' | cmp -s - $(BUILD)/debian.list || echo '$(strip $(DEBIAN))' > $(BUILD)/debian.list))

$(BUILD)/initramfs-debian.cpio: $(BUILD)/debian.list $(BUILD)/initramfs.cpio scripts/add-debian-program
	@rm -rf $(BUILD)/debian
	@scripts/add-debian-program $(BUILD)/debian $(DEBIAN)
	@echo "  CPIO    $@"
	@node scripts/make-initramfs.mjs $@ $(INITRAMFS_BASE) /=$(BUILD)/debian

# The console font: a Debian console font (console-setup-linux), converted.
CONSOLE_FONT := /usr/share/consolefonts/Lat15-VGA16.psf.gz
$(BUILD)/font.bin: $(CONSOLE_FONT) scripts/make-font.mjs
	@mkdir -p $(@D)
	@echo "  FONT    $@"
	@node scripts/make-font.mjs $< $@

$(BUILD)/os.iso: $(BUILD)/kernel.elf $(BUILD)/kernel.sym $(ISO_INITRAMFS) $(BUILD)/debian.list $(BUILD)/font.bin iso/grub.cfg scripts/make-iso.sh
	@echo "  ISO     $@"
	@scripts/make-iso.sh $@ "$(CMDLINE)" $(ISO_INITRAMFS)

# With a display, QEMU's window shows the framebuffer and takes keys; the
# serial console is on this terminal either way.
RUN_OUTPUT := $(if $(DISPLAY),-serial mon:stdio,-nographic)

# `make run DISK=IMAGE` (IMAGE, IMAGE,ahci for SATA or IMAGE,nvme for NVMe; several, space-separated)
# attaches disks and boots with the first one's partition 1 as the root,
# read-write (`make disk` makes build/disk.img for it); CMDLINE adds words.
DISK ?=
ROOT_CMDLINE := $(if $(strip $(DISK)),root=$(if $(findstring ahci,$(firstword $(DISK))),/dev/sda1,$(if $(findstring nvme,$(firstword $(DISK))),/dev/nvme0n1p1,/dev/vda1)) rw )
run: deps
	@$(MAKE) --no-print-directory iso
	@$(if $(strip $(DISK)),scripts/make-iso.sh $(BUILD)/os-disk.iso "$(ROOT_CMDLINE)$(CMDLINE)" $(ISO_INITRAMFS),true)
	@echo "  QEMU    $(if $(strip $(DISK)),$(BUILD)/os-disk.iso with $(DISK),$(BUILD)/os.iso) (serial console here; quit with Ctrl-A X)"
	@$(QEMU) $(QEMU_FLAGS) -cdrom $(BUILD)/$(if $(strip $(DISK)),os-disk.iso,os.iso) -boot d $(RUN_OUTPUT) \
		$(if $(strip $(DISK)),$(shell node scripts/disk-arguments.mjs $(DISK)))

# `make disk`: build/disk.img, an ext2 disk (DISK_MIB MiB, partition 1) with
# what the initramfs holds, for `make run DISK=build/disk.img`.
DISK_MIB ?= 256
disk: $(BUILD)/disk.img
$(BUILD)/disk.img: $(BUILD)/initramfs.cpio scripts/make-disk.sh scripts/disk-image.mjs scripts/make-initramfs.mjs
	@echo "  DISK    $@"
	@scripts/make-disk.sh $@ $(DISK_MIB) $(INITRAMFS_BASE)

debug: deps
	@$(MAKE) --no-print-directory iso
	@echo "  QEMU    waiting for gdb on :1234; in another terminal: gdb -x scripts/gdbinit"
	@$(QEMU) $(QEMU_FLAGS) -cdrom $(BUILD)/os.iso -boot d -nographic -s -S

unit-wasm: $(BUILD)/unit/unit.wasm
$(BUILD)/unit/unit.wasm: $(TS_SOURCES) $(wildcard tests/unit/*.ts) asconfig.json node_modules/.package-lock.json
	@mkdir -p $(@D)
	@echo "  ASC     $@"
	@$(ASC) tests/unit/harness.ts --target unit

# A Go program (user/goroutines.go), built with Debian's Go, static: the Go
# runtime's threads, futexes and signals. Not in the initramfs: its test
# (tests/integration/go.test.ts) adds it to its own.
GO_PROGRAMS := $(BUILD)/user/go/goroutines
GO_ENV = HOME=$(abspath $(BUILD))/go GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path CGO_ENABLED=0
$(BUILD)/user/go/%: user/%.go
	@mkdir -p $(@D)
	@echo "  GO      $@"
	@$(GO_ENV) go build -o $@ $<

# A Rust program (user/rust_threads.rs), built with rustc for glibc (Debian
# has no musl target for Rust): std's threads, locks, channels and unwinding.
# Like the Go one, its test (tests/integration/rust.test.ts) adds it.
RUST_PROGRAMS := $(BUILD)/user/rust/rust_threads
$(BUILD)/user/rust/%: user/%.rs
	@mkdir -p $(@D)
	@echo "  RUSTC   $@"
	@rustc -O --edition 2021 -o $@ $<

test: deps
	@$(MAKE) --no-print-directory iso unit-wasm $(GO_PROGRAMS) $(RUST_PROGRAMS)
	@node scripts/run-tests.mjs

# Pictures of physical memory through a fork and its copy-on-write
# (scripts/memmap): build/memmap/*.png and build/memmap/index.html.
memmap: deps
	@$(MAKE) --no-print-directory $(BUILD)/kernel.elf $(BUILD)/kernel.sym $(BUILD)/initramfs.cpio $(BUILD)/font.bin
	@scripts/memmap

# Benchmarks against Linux on the same emulator (not part of `make test`).
bench: deps
	@$(MAKE) --no-print-directory iso
	@node scripts/bench.mjs

# The fuzzers (README, "Fuzzing"): `make fuzz SEED=1 CALLS=100000 MEMORY=512M`
# boots once with user/fuzz.c as init (SQUEEZE=1 fills memory first,
# ELF=N also runs N ELF mutants, FUZZ_ARGS adds fuzzer words); `make
# fuzz-ci` is the bounded pass .ci/run makes. Both fail on a panic, a hang,
# a memcheck problem or a lost frame.
SEED      ?= 1
CALLS     ?= 100000
MEMORY    ?= 512M
SQUEEZE   ?= 0
ELF       ?= 0
FUZZ_ARGS ?=
.PHONY: fuzz fuzz-ci
fuzz: deps
	@node scripts/fuzz.mjs --seed $(SEED) --calls $(CALLS) --memory $(MEMORY) --squeeze $(SQUEEZE) --elf $(ELF) -- $(FUZZ_ARGS)

fuzz-ci: deps
	@node scripts/fuzz.mjs --ci

# The Linux Test Project's system-call tests (README, "The Linux Test
# Project"): LTP_SRC is an LTP source tree; LTP_TESTS=all runs every test;
# LTP_CHECK names the tests that must pass (the ratchet .ci/run enforces).
LTP_SRC   ?= $(if $(wildcard ../shared/ltp/src),../shared/ltp/src,)
LTP_CHECK ?= tests/ltp/expected-pass.txt
.PHONY: ltp
ltp: deps
	@LTP_SRC="$(LTP_SRC)" LTP_CHECK="$(LTP_CHECK)" QEMU_MEM="$(QEMU_MEM)" node scripts/ltp.mjs

clean:
	rm -rf $(BUILD)
