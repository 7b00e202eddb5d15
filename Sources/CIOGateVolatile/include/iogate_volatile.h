// Volatile register access: the only way IOGate touches mapped device memory.
//
// Each function performs exactly one load or store of its width through a volatile pointer, so
// the compiler may neither delete, merge, split nor reorder it with other volatile accesses.
// Callers (IOGateMapping) guarantee the pointer is inside a live mapping and aligned to the width.
#ifndef IOGATE_VOLATILE_H
#define IOGATE_VOLATILE_H

#include <stdint.h>

static inline uint8_t iogate_load8(const void *p) { return *(const volatile uint8_t *)p; }
static inline uint16_t iogate_load16(const void *p) { return *(const volatile uint16_t *)p; }
static inline uint32_t iogate_load32(const void *p) { return *(const volatile uint32_t *)p; }
static inline uint64_t iogate_load64(const void *p) { return *(const volatile uint64_t *)p; }

static inline void iogate_store8(void *p, uint8_t v) { *(volatile uint8_t *)p = v; }
static inline void iogate_store16(void *p, uint16_t v) { *(volatile uint16_t *)p = v; }
static inline void iogate_store32(void *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static inline void iogate_store64(void *p, uint64_t v) { *(volatile uint64_t *)p = v; }

// Out-of-line copies used by the test that proves the accesses are volatile (see VolatileIRTests).
uint32_t iogate_probe_load32(const void *p);
void iogate_probe_store32(void *p, uint32_t v);

#endif
