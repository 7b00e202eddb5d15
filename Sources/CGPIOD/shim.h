// The libgpiod v1 API (1.6). Only IOGateGPIO imports this module; it owns every pointer that
// these functions return: a `struct gpiod_chip *` from gpiod_chip_open_by_name() is closed with
// gpiod_chip_close(), and the `struct gpiod_line *` handles gpiod_chip_get_line() returns belong to
// their chip and die with it.
#ifndef IOGATE_CGPIOD_SHIM_H
#define IOGATE_CGPIOD_SHIM_H
#include <gpiod.h>
#endif
