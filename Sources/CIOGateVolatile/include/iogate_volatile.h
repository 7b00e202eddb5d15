// Register access: the only way IOGate touches mapped device memory.
//
// Each access is exactly one load or store of its width, written as inline assembly, so the
// compiler can neither delete, merge, split nor reorder it, and it is inlined into the caller (no
// call per access). Every such instruction is listed in an exception table (the section
// `iogate_extable`, as the Linux kernel's `__ex_table`): a pair of self-relative offsets, the
// access instruction and its fixup code. A bus fault during an access (SIGBUS: an unbacked
// address, a powered-down block, a device file truncated under the daemon) does not kill the
// process: the handler installed by iogate_install_bus_fault_handler() finds the faulting program
// counter in the table and resumes the thread at the fixup, which reports the failure to the
// caller and jumps back behind the access. No Swift frame is skipped, so locks and reference
// counts stay balanced.
//
// Two levels:
// - iogate_try_loadN / iogate_try_storeN: the bare guarded access; it sets *faulted to 1 when the
//   access faulted (and leaves it alone otherwise). Loops that check *faulted themselves (a
//   batch, one guard per batch) use these.
// - iogate_loadN / iogate_storeN: the same plus the thread's pending fault: after a fault, every
//   further access on the same thread fails without touching the device until
//   iogate_take_bus_fault() is called, so a request stops at the access that faulted.
// Callers (IOGateMapping) guarantee the pointer is inside a live mapping and aligned to the width.
#ifndef IOGATE_VOLATILE_H
#define IOGATE_VOLATILE_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define IOGATE_GUARDED 1
#else
#define IOGATE_GUARDED 0
#endif

// The table entry of the access at local label 1, fixup at local label 3 (self-relative, so the
// table needs no dynamic relocation in a position-independent executable). "R" (SHF_GNU_RETAIN)
// keeps the entries from the linker's section garbage collection: lld does not count the
// __start_/__stop_ references as uses (-z start-stop-gc), and dropped the whole table of the arm64
// build. iogate_install_bus_fault_handler() refuses an empty table.
#define IOGATE_EXTABLE_ENTRY \
    ".pushsection iogate_extable,\"aR\"\n.balign 4\n.long 1b - .\n.long 3b - .\n.popsection\n"

#if defined(__x86_64__)
// Load: 1 is the access, 2 the instruction after it; the fixup (3) sets the flag, zeroes the value, jumps to 2.
#define IOGATE_TRY_LOAD(insn, zero)                                                                  \
    __asm__ volatile("1: " insn "\n2:\n"                                                             \
                     ".pushsection .text.iogate_fixup,\"ax\"\n3: movl $1, %k[f]\n" zero "\njmp 2b\n" \
                     ".popsection\n" IOGATE_EXTABLE_ENTRY                                            \
                     : [v] "=r"(v), [f] "+r"(f)                                                      \
                     : [p] "r"(p)                                                                    \
                     : "memory")
#define IOGATE_TRY_STORE(insn)                                                                       \
    __asm__ volatile("1: " insn "\n2:\n"                                                             \
                     ".pushsection .text.iogate_fixup,\"ax\"\n3: movl $1, %k[f]\njmp 2b\n"           \
                     ".popsection\n" IOGATE_EXTABLE_ENTRY                                            \
                     : [f] "+r"(f)                                                                   \
                     : [p] "r"(p), [v] "r"(v)                                                        \
                     : "memory")
#define IOGATE_L8 IOGATE_TRY_LOAD("movzbl (%[p]), %k[v]", "xorl %k[v], %k[v]")
#define IOGATE_L16 IOGATE_TRY_LOAD("movzwl (%[p]), %k[v]", "xorl %k[v], %k[v]")
#define IOGATE_L32 IOGATE_TRY_LOAD("movl (%[p]), %k[v]", "xorl %k[v], %k[v]")
#define IOGATE_L64 IOGATE_TRY_LOAD("movq (%[p]), %q[v]", "xorl %k[v], %k[v]")
#define IOGATE_S8 IOGATE_TRY_STORE("movb %b[v], (%[p])")
#define IOGATE_S16 IOGATE_TRY_STORE("movw %w[v], (%[p])")
#define IOGATE_S32 IOGATE_TRY_STORE("movl %k[v], (%[p])")
#define IOGATE_S64 IOGATE_TRY_STORE("movq %q[v], (%[p])")
#elif defined(__aarch64__)
#define IOGATE_TRY_LOAD(insn, zero)                                                                 \
    __asm__ volatile("1: " insn "\n2:\n"                                                            \
                     ".pushsection .text.iogate_fixup,\"ax\"\n3: mov %w[f], #1\n" zero "\nb 2b\n"   \
                     ".popsection\n" IOGATE_EXTABLE_ENTRY                                           \
                     : [v] "=r"(v), [f] "+r"(f)                                                     \
                     : [p] "r"(p)                                                                   \
                     : "memory")
#define IOGATE_TRY_STORE(insn)                                                                      \
    __asm__ volatile("1: " insn "\n2:\n"                                                            \
                     ".pushsection .text.iogate_fixup,\"ax\"\n3: mov %w[f], #1\nb 2b\n"             \
                     ".popsection\n" IOGATE_EXTABLE_ENTRY                                           \
                     : [f] "+r"(f)                                                                  \
                     : [p] "r"(p), [v] "r"(v)                                                       \
                     : "memory")
#define IOGATE_L8 IOGATE_TRY_LOAD("ldrb %w[v], [%[p]]", "mov %w[v], #0")
#define IOGATE_L16 IOGATE_TRY_LOAD("ldrh %w[v], [%[p]]", "mov %w[v], #0")
#define IOGATE_L32 IOGATE_TRY_LOAD("ldr %w[v], [%[p]]", "mov %w[v], #0")
#define IOGATE_L64 IOGATE_TRY_LOAD("ldr %x[v], [%[p]]", "mov %x[v], #0")
#define IOGATE_S8 IOGATE_TRY_STORE("strb %w[v], [%[p]]")
#define IOGATE_S16 IOGATE_TRY_STORE("strh %w[v], [%[p]]")
#define IOGATE_S32 IOGATE_TRY_STORE("str %w[v], [%[p]]")
#define IOGATE_S64 IOGATE_TRY_STORE("str %x[v], [%[p]]")
#else
// Other architectures: plain volatile accesses; a fault still kills the process.
#define IOGATE_PLAIN_LOAD(type) v = *(const volatile type *)p
#define IOGATE_PLAIN_STORE(type) *(volatile type *)p = (type)v
#define IOGATE_L8 IOGATE_PLAIN_LOAD(uint8_t)
#define IOGATE_L16 IOGATE_PLAIN_LOAD(uint16_t)
#define IOGATE_L32 IOGATE_PLAIN_LOAD(uint32_t)
#define IOGATE_L64 IOGATE_PLAIN_LOAD(uint64_t)
#define IOGATE_S8 IOGATE_PLAIN_STORE(uint8_t)
#define IOGATE_S16 IOGATE_PLAIN_STORE(uint16_t)
#define IOGATE_S32 IOGATE_PLAIN_STORE(uint32_t)
#define IOGATE_S64 IOGATE_PLAIN_STORE(uint64_t)
#endif

#define IOGATE_INLINE static inline __attribute__((always_inline))

// Bare guarded accesses: the value read (0 after a fault); *faulted set to 1 on a fault.
IOGATE_INLINE uint32_t iogate_try_load8(const void *p, int32_t *faulted) {
    uint32_t v;
    int32_t f = *faulted;
    IOGATE_L8;
    *faulted = f;
    return v;
}
IOGATE_INLINE uint32_t iogate_try_load16(const void *p, int32_t *faulted) {
    uint32_t v;
    int32_t f = *faulted;
    IOGATE_L16;
    *faulted = f;
    return v;
}
IOGATE_INLINE uint32_t iogate_try_load32(const void *p, int32_t *faulted) {
    uint32_t v;
    int32_t f = *faulted;
    IOGATE_L32;
    *faulted = f;
    return v;
}
IOGATE_INLINE uint64_t iogate_try_load64(const void *p, int32_t *faulted) {
    uint64_t v;
    int32_t f = *faulted;
    IOGATE_L64;
    *faulted = f;
    return v;
}
IOGATE_INLINE void iogate_try_store8(void *p, uint32_t v, int32_t *faulted) {
    int32_t f = *faulted;
    IOGATE_S8;
    *faulted = f;
}
IOGATE_INLINE void iogate_try_store16(void *p, uint32_t v, int32_t *faulted) {
    int32_t f = *faulted;
    IOGATE_S16;
    *faulted = f;
}
IOGATE_INLINE void iogate_try_store32(void *p, uint32_t v, int32_t *faulted) {
    int32_t f = *faulted;
    IOGATE_S32;
    *faulted = f;
}
IOGATE_INLINE void iogate_try_store64(void *p, uint64_t v, int32_t *faulted) {
    int32_t f = *faulted;
    IOGATE_S64;
    *faulted = f;
}

// The thread's pending fault: set by iogate_note_bus_fault, cleared by iogate_take_bus_fault.
// Initial-exec TLS: the shim is linked into the executable, so reading it is one load.
extern __thread int32_t iogate_fault_pending __attribute__((tls_model("initial-exec")));

// Records a fault at `physical` as the thread's pending fault (the first one wins). Out of line:
// only the fault path calls it.
void iogate_note_bus_fault(uint64_t physical);

// Accesses with the thread's pending fault. Return 0 (and store the value), or -1 after a bus
// fault (now or earlier on this thread, not yet taken; then *out / the device is unchanged).
#define IOGATE_PENDING_LOAD(N, T)                                                           \
    IOGATE_INLINE int iogate_load##N(const void *p, T *out, uint64_t physical) {            \
        if (__builtin_expect(iogate_fault_pending, 0)) return -1;                           \
        int32_t f = 0;                                                                      \
        T v = (T)iogate_try_load##N(p, &f);                                                 \
        if (__builtin_expect(f, 0)) {                                                       \
            iogate_note_bus_fault(physical);                                                \
            return -1;                                                                      \
        }                                                                                   \
        *out = v;                                                                           \
        return 0;                                                                           \
    }
#define IOGATE_PENDING_STORE(N, T, A)                                                       \
    IOGATE_INLINE int iogate_store##N(void *p, T v, uint64_t physical) {                    \
        if (__builtin_expect(iogate_fault_pending, 0)) return -1;                           \
        int32_t f = 0;                                                                      \
        iogate_try_store##N(p, (A)v, &f);                                                   \
        if (__builtin_expect(f, 0)) {                                                       \
            iogate_note_bus_fault(physical);                                                \
            return -1;                                                                      \
        }                                                                                   \
        return 0;                                                                           \
    }
IOGATE_PENDING_LOAD(8, uint8_t)
IOGATE_PENDING_LOAD(16, uint16_t)
IOGATE_PENDING_LOAD(32, uint32_t)
IOGATE_PENDING_LOAD(64, uint64_t)
IOGATE_PENDING_STORE(8, uint8_t, uint32_t)
IOGATE_PENDING_STORE(16, uint16_t, uint32_t)
IOGATE_PENDING_STORE(32, uint32_t, uint32_t)
IOGATE_PENDING_STORE(64, uint64_t, uint64_t)

// Whether this thread has a fault not yet taken (batches check once, then use the bare accesses).
IOGATE_INLINE int iogate_bus_fault_pending(void) { return iogate_fault_pending; }

// Installs the SIGBUS handler (once per process). Returns 0, or -1 with errno set (ENOEXEC when this
// executable's exception table is empty: a linker dropped it, and a fault would kill). A SIGBUS from
// anywhere but the accesses above restores the previous disposition and re-faults, so real bugs
// still crash as before.
int iogate_install_bus_fault_handler(void);

// 1 when this architecture has guarded accesses (x86_64, aarch64); 0 when a fault still kills.
int iogate_bus_fault_guard_available(void);

// The number of guarded access instructions in this executable's exception table (for tests).
long iogate_guarded_access_count(void);

// If an access on this thread faulted since the last call: returns 1, stores the physical address
// of the first faulting access, and re-arms the thread. Otherwise returns 0.
int iogate_take_bus_fault(uint64_t *physical);

#endif
