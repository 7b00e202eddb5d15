// Guarded register accesses (see iogate_volatile.h): the SIGBUS handler and the thread's pending fault.
//
// Every access is an inline assembly instruction with an entry in the `iogate_extable` section
// (two self-relative 32-bit offsets: the access, its fixup). The linker gathers the entries of every
// object file into one table between __start_iogate_extable and __stop_iogate_extable. When an
// access raises SIGBUS, the handler finds its program counter in the table and resumes the thread at
// the fixup, which sets the caller's fault flag and jumps back behind the access. No setjmp runs on
// the fast path, no call is made per access, and no frame is skipped.
#define _GNU_SOURCE
#include "iogate_volatile.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

__thread int32_t iogate_fault_pending __attribute__((tls_model("initial-exec")));
static __thread uint64_t fault_address;

void iogate_note_bus_fault(uint64_t physical) {
    if (iogate_fault_pending) return;
    iogate_fault_pending = 1;
    fault_address = physical;
}

int iogate_take_bus_fault(uint64_t *physical) {
    if (!iogate_fault_pending) return 0;
    *physical = fault_address;
    iogate_fault_pending = 0;
    return 1;
}

#if IOGATE_GUARDED
struct extable_entry {
    int32_t access, fixup;  // each relative to its own address
};
// Defined by the linker for a section whose name is a C identifier. Weak: a program with no guarded
// access has no table. The section is kept by the __start/__stop references (and the "R"-less
// default of every Linux linker for such sections).
extern const struct extable_entry __start_iogate_extable[] __attribute__((weak, visibility("hidden")));
extern const struct extable_entry __stop_iogate_extable[] __attribute__((weak, visibility("hidden")));

static uintptr_t fixup_for(uintptr_t pc) {
    for (const struct extable_entry *e = __start_iogate_extable; e < __stop_iogate_extable; e++) {
        if ((uintptr_t)&e->access + (intptr_t)e->access == pc) return (uintptr_t)&e->fixup + (intptr_t)e->fixup;
    }
    return 0;
}

long iogate_guarded_access_count(void) { return __stop_iogate_extable - __start_iogate_extable; }

static struct sigaction previous_sigbus;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uintptr_t fixup = fixup_for((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
    if (fixup) {
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fixup;
        return;
    }
#else
    uintptr_t fixup = fixup_for((uintptr_t)uc->uc_mcontext.pc);
    if (fixup) {
        uc->uc_mcontext.pc = fixup;
        return;
    }
#endif
    // Not one of ours: the previous disposition handles the re-executed fault (by default, death).
    sigaction(SIGBUS, &previous_sigbus, NULL);
}

int iogate_install_bus_fault_handler(void) {
    static int installed;
    if (installed) return 0;
    if (iogate_guarded_access_count() <= 0) {  // no table: nothing could be resumed
        errno = ENOEXEC;
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous_sigbus) != 0) return -1;
    installed = 1;
    return 0;
}

int iogate_bus_fault_guard_available(void) { return 1; }
#else
int iogate_install_bus_fault_handler(void) { return 0; }
int iogate_bus_fault_guard_available(void) { return 0; }
long iogate_guarded_access_count(void) { return 0; }
#endif
