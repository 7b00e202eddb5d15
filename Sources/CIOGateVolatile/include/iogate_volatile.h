// Register access: the only way IOGate touches mapped device memory.
//
// Each access is exactly one load or store of its width, written in assembly (guarded.c), so the
// compiler can neither delete, merge, split nor reorder it. A bus fault during it (SIGBUS: an
// unbacked address, a powered-down block, a device file truncated under the daemon) does not kill
// the process: the handler installed by iogate_install_bus_fault_handler() makes the access return
// failure instead. After a fault, every further access on the same thread fails without touching
// the device until iogate_take_bus_fault() is called, so a batch stops at the operation that
// faulted. Callers (IOGateMapping) guarantee the pointer is inside a live mapping and aligned to
// the width.
#ifndef IOGATE_VOLATILE_H
#define IOGATE_VOLATILE_H

#include <stdint.h>

// Returns 0 and stores the value, or -1 after a bus fault (then *out is unchanged).
int iogate_load8(const void *p, uint8_t *out, uint64_t physical);
int iogate_load16(const void *p, uint16_t *out, uint64_t physical);
int iogate_load32(const void *p, uint32_t *out, uint64_t physical);
int iogate_load64(const void *p, uint64_t *out, uint64_t physical);

// Returns 0, or -1 after a bus fault (then nothing was stored).
int iogate_store8(void *p, uint8_t v, uint64_t physical);
int iogate_store16(void *p, uint16_t v, uint64_t physical);
int iogate_store32(void *p, uint32_t v, uint64_t physical);
int iogate_store64(void *p, uint64_t v, uint64_t physical);

// Installs the SIGBUS handler (once per process). Returns 0, or -1 with errno set. A SIGBUS from
// anywhere but the accesses above restores the previous disposition and re-faults, so real bugs
// still crash as before.
int iogate_install_bus_fault_handler(void);

// 1 when this architecture has guarded accesses (x86_64, aarch64); 0 when a fault still kills.
int iogate_bus_fault_guard_available(void);

// If an access on this thread faulted since the last call: returns 1, stores the physical address
// of the first faulting access, and re-arms the thread. Otherwise returns 0.
int iogate_take_bus_fault(uint64_t *physical);

#endif
