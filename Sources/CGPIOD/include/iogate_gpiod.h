// One small API over libgpiod v1 (1.6: Debian 12) and v2 (2.x: Debian 13, Raspberry Pi OS), so
// IOGateGPIO's Swift code is the same for both. Which libgpiod it wraps is decided when
// iogate_gpiod.c is compiled, from the <gpiod.h> the compiler finds; nothing here includes it, so
// Swift never sees libgpiod's own declarations.
//
// Ownership: a chip from iogate_gpiod_chip_open is released with iogate_gpiod_chip_close; a line
// from iogate_gpiod_line_get is a snapshot the caller owns and releases with iogate_gpiod_line_free.
// Every string returned lives as long as the object it came from. Functions that fail return NULL
// with errno set by the kernel or libgpiod.
#ifndef IOGATE_GPIOD_H
#define IOGATE_GPIOD_H

#include <stdbool.h>
#include <stddef.h>

// An open GPIO chip character device (/dev/gpiochipN) with its name, label and line count.
typedef struct iogate_gpiod_chip iogate_gpiod_chip;
// What the kernel said about one line at the moment it was asked.
typedef struct iogate_gpiod_line iogate_gpiod_line;

// The libgpiod API major version this was compiled against: 1 or 2.
int iogate_gpiod_api_major(void);
// The version of the libgpiod actually loaded, e.g. "1.6.3" or "2.2.1".
const char *iogate_gpiod_library_version(void);

// Opens the chip at `path` (e.g. "/dev/gpiochip0"); NULL with errno set on failure.
iogate_gpiod_chip *iogate_gpiod_chip_open(const char *path);
// Closes the chip and frees everything it owns. NULL is ignored.
void iogate_gpiod_chip_close(iogate_gpiod_chip *chip);
// The kernel's name for the chip, e.g. "gpiochip0".
const char *iogate_gpiod_chip_name(const iogate_gpiod_chip *chip);
// The driver's label, e.g. "pinctrl-bcm2711".
const char *iogate_gpiod_chip_label(const iogate_gpiod_chip *chip);
// How many lines the chip has.
size_t iogate_gpiod_chip_num_lines(const iogate_gpiod_chip *chip);

// Reads line `offset` from the kernel now; NULL with errno set on failure (EINVAL: no such line).
iogate_gpiod_line *iogate_gpiod_line_get(iogate_gpiod_chip *chip, unsigned int offset);
// Frees a line snapshot. NULL is ignored.
void iogate_gpiod_line_free(iogate_gpiod_line *line);
// The line's name (device tree `gpio-line-names`), or NULL when it has none.
const char *iogate_gpiod_line_name(const iogate_gpiod_line *line);
// The label of whoever holds the line, or NULL when nobody named it.
const char *iogate_gpiod_line_consumer(const iogate_gpiod_line *line);
// True when a kernel driver, the pin controller or a program has claimed the line.
bool iogate_gpiod_line_is_used(const iogate_gpiod_line *line);
// True when the line is configured as an output, false for an input.
bool iogate_gpiod_line_is_output(const iogate_gpiod_line *line);
// True when the line is active-low.
bool iogate_gpiod_line_is_active_low(const iogate_gpiod_line *line);

#endif
