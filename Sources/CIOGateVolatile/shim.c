#include "iogate_volatile.h"

uint32_t iogate_probe_load32(const void *p) { return iogate_load32(p); }
void iogate_probe_store32(void *p, uint32_t v) { iogate_store32(p, v); }
