// Guarded register accesses (see iogate_volatile.h).
//
// Each raw access is a leaf function in assembly whose first instruction is the only one that
// touches device memory. When that instruction raises SIGBUS, the handler below finds the faulting
// program counter inside [iogate_raw_begin, iogate_raw_end) and resumes the thread as if the leaf
// function had returned -1: on x86_64 it pops the return address (a leaf never moves the stack
// pointer before its access), on aarch64 it jumps to the link register. No setjmp runs on the fast
// path, and no Swift frame is ever skipped, so locks and reference counts stay balanced.
#define _GNU_SOURCE
#include "iogate_volatile.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define IOGATE_GUARDED 1
// int raw_loadN(const void *p, uintN_t *out); int raw_storeN(void *p, uintN_t v): 0, or -1 after a fault.
int iogate_raw_load8(const void *p, uint8_t *out);
int iogate_raw_load16(const void *p, uint16_t *out);
int iogate_raw_load32(const void *p, uint32_t *out);
int iogate_raw_load64(const void *p, uint64_t *out);
int iogate_raw_store8(void *p, uint8_t v);
int iogate_raw_store16(void *p, uint16_t v);
int iogate_raw_store32(void *p, uint32_t v);
int iogate_raw_store64(void *p, uint64_t v);
extern const char iogate_raw_begin[], iogate_raw_end[];
#endif

#if defined(__x86_64__)
#define RAW(name, body) \
    ".globl " #name "\n.type " #name ",@function\n.p2align 4\n" #name ":\n" body "\n.size " #name ",.-" #name "\n"
__asm__(".text\n"
        ".globl iogate_raw_begin\n.hidden iogate_raw_begin\niogate_raw_begin:\n"
        RAW(iogate_raw_load8, "movzbl (%rdi), %eax\nmovb %al, (%rsi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_load16, "movzwl (%rdi), %eax\nmovw %ax, (%rsi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_load32, "movl (%rdi), %eax\nmovl %eax, (%rsi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_load64, "movq (%rdi), %rax\nmovq %rax, (%rsi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_store8, "movb %sil, (%rdi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_store16, "movw %si, (%rdi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_store32, "movl %esi, (%rdi)\nxorl %eax, %eax\nret")
        RAW(iogate_raw_store64, "movq %rsi, (%rdi)\nxorl %eax, %eax\nret")
        ".globl iogate_raw_end\n.hidden iogate_raw_end\niogate_raw_end:\n");
#elif defined(__aarch64__)
// "hint #34" is BTI C (a NOP on cores without branch target identification).
#define RAW(name, body) \
    ".globl " #name "\n.type " #name ",%function\n.p2align 4\n" #name ":\nhint #34\n" body "\n.size " #name ",.-" #name "\n"
__asm__(".text\n"
        ".globl iogate_raw_begin\n.hidden iogate_raw_begin\niogate_raw_begin:\n"
        RAW(iogate_raw_load8, "ldrb w2, [x0]\nstrb w2, [x1]\nmov w0, #0\nret")
        RAW(iogate_raw_load16, "ldrh w2, [x0]\nstrh w2, [x1]\nmov w0, #0\nret")
        RAW(iogate_raw_load32, "ldr w2, [x0]\nstr w2, [x1]\nmov w0, #0\nret")
        RAW(iogate_raw_load64, "ldr x2, [x0]\nstr x2, [x1]\nmov w0, #0\nret")
        RAW(iogate_raw_store8, "strb w1, [x0]\nmov w0, #0\nret")
        RAW(iogate_raw_store16, "strh w1, [x0]\nmov w0, #0\nret")
        RAW(iogate_raw_store32, "str w1, [x0]\nmov w0, #0\nret")
        RAW(iogate_raw_store64, "str x1, [x0]\nmov w0, #0\nret")
        ".globl iogate_raw_end\n.hidden iogate_raw_end\niogate_raw_end:\n");
#endif

// The first fault of the current request on this thread; cleared by iogate_take_bus_fault.
static __thread int fault_pending;
static __thread uint64_t fault_address;

#if IOGATE_GUARDED
static struct sigaction previous_sigbus;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
#endif
    if (pc >= (uintptr_t)iogate_raw_begin && pc < (uintptr_t)iogate_raw_end) {
#if defined(__x86_64__)
        greg_t *sp = &uc->uc_mcontext.gregs[REG_RSP];
        uc->uc_mcontext.gregs[REG_RIP] = *(greg_t *)(uintptr_t)*sp;  // the leaf's return address
        *sp += 8;
        uc->uc_mcontext.gregs[REG_RAX] = -1;
#else
        uc->uc_mcontext.pc = uc->uc_mcontext.regs[30];  // the link register
        uc->uc_mcontext.regs[0] = (uint64_t)-1;
#endif
        return;
    }
    // Not one of ours: the previous disposition handles the re-executed fault (by default, death).
    sigaction(SIGBUS, &previous_sigbus, NULL);
}

int iogate_install_bus_fault_handler(void) {
    static int installed;
    if (installed) return 0;
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

#define ACCESS(kind, type, width, arg)                                  \
    if (fault_pending) return -1;                                       \
    if (iogate_raw_##kind##width(p, arg) != 0) {                        \
        fault_pending = 1;                                              \
        fault_address = physical;                                       \
        return -1;                                                      \
    }                                                                   \
    return 0;
#else
// Other architectures: plain volatile accesses; a fault still kills the process.
int iogate_install_bus_fault_handler(void) { return 0; }
int iogate_bus_fault_guard_available(void) { return 0; }
#define ACCESS(kind, type, width, arg)                                  \
    (void)physical;                                                     \
    if (fault_pending) return -1;                                       \
    IOGATE_PLAIN_##kind(type, arg);                                     \
    return 0;
#define IOGATE_PLAIN_load(type, out) (*(out) = *(const volatile type *)p)
#define IOGATE_PLAIN_store(type, v) (*(volatile type *)p = (v))
#endif

int iogate_load8(const void *p, uint8_t *out, uint64_t physical) { ACCESS(load, uint8_t, 8, out) }
int iogate_load16(const void *p, uint16_t *out, uint64_t physical) { ACCESS(load, uint16_t, 16, out) }
int iogate_load32(const void *p, uint32_t *out, uint64_t physical) { ACCESS(load, uint32_t, 32, out) }
int iogate_load64(const void *p, uint64_t *out, uint64_t physical) { ACCESS(load, uint64_t, 64, out) }
int iogate_store8(void *p, uint8_t v, uint64_t physical) { ACCESS(store, uint8_t, 8, v) }
int iogate_store16(void *p, uint16_t v, uint64_t physical) { ACCESS(store, uint16_t, 16, v) }
int iogate_store32(void *p, uint32_t v, uint64_t physical) { ACCESS(store, uint32_t, 32, v) }
int iogate_store64(void *p, uint64_t v, uint64_t physical) { ACCESS(store, uint64_t, 64, v) }

int iogate_take_bus_fault(uint64_t *physical) {
    if (!fault_pending) return 0;
    *physical = fault_address;
    fault_pending = 0;
    return 1;
}
