# scramble: one non-recursive Makefile.  Everything is built into build/.
#   make            build everything
#   make check      install missing test packages, build, run every test
#   make demo       the end-to-end story on loopback (HTTP server, curl)
#   make demo-ssh   the same story with sshd and ssh
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=1 ASan+UBSan build (unit tests and daemon) in build-san/;
#                   make check SANITIZE=1 runs the tests against it
#   make fuzz       libFuzzer targets (clang) in build-fuzz/, FUZZ_SECONDS=30 each
#   make bench      benchmarks against knockd, xinetd, proxychains, torsocks...;
#                   writes tests/bench/results.md and results.png (BENCH_QUICK=1: tiny)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR  ?= $(PREFIX)/lib
MANDIR  ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION := 1.0.0
SYSCONFDIR ?= /etc
DESTDIR ?=

CC      ?= cc
B       := build
# V=1 shows the full compiler command lines
Q       := $(if $(V),,@)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
HARDEN  := -fstack-protector-strong -fPIC
CPPFLAGS += -D_GNU_SOURCE -Icommon -Iinclude -DSYSCONFDIR='"$(SYSCONFDIR)"' -DLIBDIR='"$(LIBDIR)"'
ifeq ($(SANITIZE),1)
# a separate build directory, so the release build is never clobbered
B       := build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLD   := -fsanitize=address,undefined
else
OPT     := -O2 -g
HARDEN  += -D_FORTIFY_SOURCE=2
SANLD   :=
endif
CFLAGS  ?=
CFLAGS  += -std=gnu11 $(WARN) $(OPT) $(HARDEN)
LDFLAGS += -Wl,-z,relro,-z,now -Wl,--as-needed
EXE_LDFLAGS := -pie $(SANLD)
CONFUSE_LIBS := $(shell pkg-config --libs libconfuse 2>/dev/null || echo -lconfuse)
# libsodium (auth = yes, protocol v2): never linked into libscramble.so
SODIUM_LIBS  := $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)

COMMON_SRC   := $(wildcard common/*.c)
COMMON_OBJ   := $(COMMON_SRC:%.c=$(B)/%.o)
DAEMON_SRC   := $(filter-out daemon/scramblectl.c daemon/ctl_%.c,$(wildcard daemon/*.c))
CTL_SRC      := daemon/scramblectl.c $(wildcard daemon/ctl_*.c)
CTL_OBJ      := $(CTL_SRC:%.c=$(B)/%.o)
DAEMON_OBJ   := $(DAEMON_SRC:%.c=$(B)/%.o)
SHIM_SRC     := $(wildcard preload/shim*.c)
SHIM_OBJ     := $(SHIM_SRC:%.c=$(B)/shimobj/%.o)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
HELPER_SRC   := $(wildcard tests/helpers/*.c)
HELPER_BIN   := $(HELPER_SRC:tests/helpers/%.c=$(B)/%)

PROGRAMS := $(B)/scrambled $(B)/scramblectl $(B)/scramble $(B)/scramble-connect
LIBS     := $(B)/libscramble.so $(B)/libscramble-conf.so
# the embedding API (include/scramble.h, scramble(3)): a library of its own,
# so that a program linking it does not interpose connect()
API_SONAME := libscramble-api.so.1
API_LIB  := $(B)/$(API_SONAME)
EXAMPLE_BIN := $(patsubst contrib/examples/%.c,$(B)/examples/%,$(wildcard contrib/examples/*.c))

all: $(PROGRAMS) $(LIBS) $(API_LIB) $(B)/libscramble-api.so $(B)/pkgconfig/scramble.pc \
	$(EXAMPLE_BIN) $(HELPER_BIN) $(UNIT_BIN)

$(B)/%.o: %.c $(wildcard common/*.h daemon/*.h preload/*.h include/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The shim is never built with sanitizers: it is loaded into other programs.
SHIM_CFLAGS := -std=gnu11 $(WARN) -O2 -g -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fvisibility=hidden
$(B)/shimobj/%.o: %.c $(wildcard common/*.h preload/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shim)"
	$(Q)$(CC) $(CPPFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

# the shim's own copy of the common code, hidden and unsanitized
SHIM_COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/shimobj/%.o)
$(B)/libcommon-shim.a: $(SHIM_COMMON_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/scrambled: $(DAEMON_OBJ) $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(B)/libcommon.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

$(B)/scramblectl: $(CTL_OBJ) $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJ) $(B)/libcommon.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

$(B)/scramble: $(B)/preload/scramble.o $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a

$(B)/scramble-connect: $(B)/preload/scramble-connect.o $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

# libscramble.so links nothing but libc; it dlopen()s libscramble-conf.so
# (which carries libconfuse) from its own directory on first need.
$(B)/libscramble.so: $(SHIM_OBJ) $(B)/libcommon-shim.a
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-soname,libscramble.so -o $@ $(SHIM_OBJ) $(B)/libcommon-shim.a

$(B)/libscramble-conf.so: $(B)/shimobj/preload/confload.o $(B)/libcommon-shim.a
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-soname,libscramble-conf.so -o $@ $< $(B)/libcommon-shim.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

$(B)/shimobj/preload/confload.o: preload/confload.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shim)"
	$(Q)$(CC) $(CPPFLAGS) $(SHIM_CFLAGS) -c -o $@ $<

# Every object of common/ (position-independent already); the version
# script exports scramble_* and nothing else.
# (not the daemon's logger: the library writes nothing; -z defs proves
# nothing it needs is missing)
API_OBJ := $(filter-out $(B)/common/log.o,$(COMMON_OBJ))
$(API_LIB): $(API_OBJ) common/libscramble-api.map
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(LDFLAGS) $(SANLD) -Wl,-z,defs -Wl,-soname,$(API_SONAME) \
		-Wl,--version-script=common/libscramble-api.map -o $@ $(API_OBJ) $(CONFUSE_LIBS) $(SODIUM_LIBS)

$(B)/libscramble-api.so: $(API_LIB)
	$(Q)ln -sf $(API_SONAME) $@

# scramble.pc for the build tree (tests, examples) and for installing
define make_pc
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(1)|; s|@LIBDIR@|$(2)|; s|@INCLUDEDIR@|$(3)|; s|@VERSION@|$(VERSION)|' $< > $@
endef
$(B)/pkgconfig/scramble.pc: contrib/scramble.pc.in Makefile
	$(call make_pc,$(CURDIR),$(CURDIR)/$(B),$(CURDIR)/include)
# (made by every install: PREFIX may differ from the last one)
$(B)/install/scramble.pc: contrib/scramble.pc.in FORCE
	$(call make_pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR))
FORCE:

# The examples are built the way a user's program is: through pkg-config.
$(B)/examples/%: contrib/examples/%.c include/scramble.h $(B)/libscramble-api.so $(B)/pkgconfig/scramble.pc
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< -Wl,-rpath,'$$ORIGIN/..' \
		$$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/pkgconfig pkg-config --cflags --libs scramble)

# test_daemon_* include daemon sources directly
$(B)/unit/%: tests/unit/%.c $(B)/libcommon.a tests/unit/unit.h $(wildcard daemon/*.c daemon/*.h)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

$(B)/%: tests/helpers/%.c $(B)/libcommon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a -lpthread

# Planted errors that only the sanitizer build has: tests/sanitize/canary.bats
# proves ASan and UBSan really catch them.
ifeq ($(SANITIZE),1)
CANARY_BIN := $(patsubst tests/sanitize/%.c,$(B)/canary/%,$(wildcard tests/sanitize/*.c))
all: $(CANARY_BIN)
endif
$(B)/canary/%: tests/sanitize/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $<

# The sanitizer pass: every suite but those about the release build
# (hardening, valgrind, the demos, which run build/, and the benchmark, which
# measures it), then the canaries, then a check that no process wrote a
# sanitizer report.
SAN_LOG := $(CURDIR)/$(B)/sanlog
ifeq ($(SANITIZE),1)
CHECK_ENV   := ASAN_OPTIONS=verify_asan_link_order=0:log_path=$(SAN_LOG)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(SAN_LOG)/ubsan \
	SCRAMBLE_SANITIZE=1
# SAN_SUITES="tests/daemon_*.bats ..." narrows the pass (e.g. for a CI budget)
SAN_SUITES  ?= $(filter-out tests/hardening.bats tests/valgrind.bats tests/demo.bats \
	tests/bench_smoke.bats,$(wildcard tests/*.bats))
CHECK_TESTS := $(B)/unit/* $(SAN_SUITES) tests/sanitize/canary.bats tests/sanitize/reports.bats
endif

deps:
	@contrib/install-deps

check: deps
	@$(MAKE) --no-print-directory all
	@rm -rf $(SAN_LOG)
	@SCRAMBLE_BUILD=$(CURDIR)/$(B) $(CHECK_ENV) tests/run $(CHECK_TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@contrib/demo

demo-ssh: deps
	@$(MAKE) --no-print-directory all
	@contrib/demo-ssh

install: all $(B)/install/scramble.pc
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/scrambled $(B)/scramblectl $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/scramble $(B)/scramble-connect $(DESTDIR)$(BINDIR)/
	install -m 0644 $(LIBS) $(API_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(API_SONAME) $(DESTDIR)$(LIBDIR)/libscramble-api.so
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 0644 include/scramble.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(B)/install/scramble.pc $(DESTDIR)$(PKGCONFIGDIR)/
	# man scramble_connect and the like: one-line pages pointing to scramble(3)
	for f in $$(grep -E '^[a-z]' include/scramble.h | grep -oE 'scramble_[a-z_]+\(' | tr -d '('); do \
		echo '.so man3/scramble.3' > $(DESTDIR)$(MANDIR)/man3/$$f.3 || exit 1; \
	done
	for m in contrib/man/*.[1-8]; do \
		[ -e "$$m" ] || continue; \
		s=$${m##*.}; install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man$$s/; \
	done

clean:
	rm -rf $(B) $(FB)

# make fuzz [FUZZ_SECONDS=N]: the libFuzzer targets tests/fuzz/fuzz_*.c,
# built with clang into build-fuzz/ (ASan+UBSan, libconfuse uninstrumented),
# each run for N seconds from its seed corpus tests/fuzz/corpus/NAME/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FB           := build-fuzz
# (-Wno-format-nonliteral: clang, unlike gcc, flags the vsnprintf in the
# va_list error callback that libconfuse requires)
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -Wno-format-nonliteral -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
ifeq ($(wildcard daemon/loginmatch.c),)
FUZZ_SRC     := $(filter-out tests/fuzz/fuzz_loginmatch.c,$(FUZZ_SRC))
endif
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FB)/%)
FUZZ_OBJ     := $(COMMON_SRC:%.c=$(FB)/%.o) $(if $(wildcard daemon/loginmatch.c),$(FB)/daemon/loginmatch.o)

$(FB)/%.o: %.c $(wildcard common/*.h daemon/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/libfuzzcommon.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FB)/libfuzzcommon.a
	$(FUZZ_CC) $(CPPFLAGS) -Idaemon $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FB)/libfuzzcommon.a $(CONFUSE_LIBS) $(SODIUM_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BIN)

# make bench: tests/bench/run (load generators from tests/bench/*.c, the
# do-nothing preload library), installing the peers it compares with
BENCH_BIN := $(B)/bench/benchcli $(B)/bench/libnoop-preload.so
all: $(BENCH_BIN)

$(B)/bench/benchcli: tests/bench/benchcli.c $(B)/libcommon.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a -Wl,-Bstatic $(CONFUSE_LIBS) $(SODIUM_LIBS) -Wl,-Bdynamic

$(B)/bench/libnoop-preload.so: tests/bench/noop_preload.c
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

bench: deps
	@$(MAKE) --no-print-directory all
	@SCRAMBLE_BUILD=$(CURDIR)/$(B) tests/bench/run

.PHONY: FORCE all deps check demo demo-ssh install clean fuzz fuzz-build bench
