// iogate_gpiod.h implemented over whichever libgpiod's <gpiod.h> the compiler finds. The two APIs
// share no function that matters here, so each has its own block below; both fill the same two
// structures, so everything else is common.
//
// Which one: libgpiod v1's gpiod.h defines the macro GPIOD_LINE_BULK_MAX_LINES (1.6.3: the size of
// struct gpiod_line_bulk). v2 removed line bulks, and its gpiod.h (2.2.1) defines no macro but its
// include guard (the same __LIBGPIOD_GPIOD_H__ as v1), so "not v1" is v2. A header that is neither
// fails to compile in the v2 block, naming the v2 function it lacks.
// strdup is POSIX.1-2008, not ISO C; declare it however strict the compiler's -std is.
#define _POSIX_C_SOURCE 200809L
#include "iogate_gpiod.h"

#if !__has_include(<gpiod.h>)
#error "gpiod.h not found: IOGateGPIO needs libgpiod's C headers, v1 or v2 (Debian, Raspberry Pi OS: apt install libgpiod-dev)"
#endif
#include <gpiod.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(GPIOD_LINE_BULK_MAX_LINES)
#define IOGATE_GPIOD_API_MAJOR 1
#else
#define IOGATE_GPIOD_API_MAJOR 2
#endif

struct iogate_gpiod_chip {
    struct gpiod_chip *chip;
    // Copies: v2 keeps these in a gpiod_chip_info that is freed separately.
    char *name;
    char *label;
    size_t num_lines;
};

struct iogate_gpiod_line {
    // Copies, so a snapshot lives as long under both APIs (v1's strings belong to a line object
    // that the next gpiod_line_update rewrites in place; v2's to a gpiod_line_info).
    char *name;
    char *consumer;
    bool used;
    bool output;
    bool active_low;
};

static void line_free(iogate_gpiod_line *line) {
    if (line == NULL) return;
    free(line->name);
    free(line->consumer);
    free(line);
}

// Copies `s` into `*out`; NULL and "" both mean "none" and leave NULL. False when out of memory.
static bool copy_optional(const char *s, char **out) {
    *out = NULL;
    if (s == NULL || s[0] == '\0') return true;
    *out = strdup(s);
    return *out != NULL;
}

// A snapshot of one line, from values read while the library's object was alive; NULL with errno
// ENOMEM when memory runs out.
static iogate_gpiod_line *make_line(const char *name, const char *consumer, bool used, bool output, bool active_low) {
    iogate_gpiod_line *line = calloc(1, sizeof *line);
    if (line != NULL && copy_optional(name, &line->name) && copy_optional(consumer, &line->consumer)) {
        line->used = used;
        line->output = output;
        line->active_low = active_low;
        return line;
    }
    line_free(line);
    errno = ENOMEM;
    return NULL;
}

// Wraps an open chip; when out of memory closes `raw` and returns NULL with errno ENOMEM.
static iogate_gpiod_chip *wrap_chip(struct gpiod_chip *raw, const char *name, const char *label, size_t num_lines) {
    iogate_gpiod_chip *chip = calloc(1, sizeof *chip);
    if (chip != NULL) {
        chip->chip = raw;
        chip->name = strdup(name != NULL ? name : "");
        chip->label = strdup(label != NULL ? label : "");
        chip->num_lines = num_lines;
        if (chip->name != NULL && chip->label != NULL) return chip;
        free(chip->name);
        free(chip->label);
        free(chip);
    }
    gpiod_chip_close(raw);
    errno = ENOMEM;
    return NULL;
}

#if IOGATE_GPIOD_API_MAJOR == 1

const char *iogate_gpiod_library_version(void) { return gpiod_version_string(); }

iogate_gpiod_chip *iogate_gpiod_chip_open(const char *path) {
    // gpiod_chip_open (1.6) opens the node and checks through sysfs that it is a GPIO chip.
    struct gpiod_chip *raw = gpiod_chip_open(path);
    if (raw == NULL) return NULL;
    return wrap_chip(raw, gpiod_chip_name(raw), gpiod_chip_label(raw), gpiod_chip_num_lines(raw));
}

iogate_gpiod_line *iogate_gpiod_line_get(iogate_gpiod_chip *chip, unsigned int offset) {
    // The line object belongs to the chip (freed by gpiod_chip_close) and may hold an old state:
    // gpiod_line_update reads it again from the kernel (GPIO_GET_LINEINFO_IOCTL).
    struct gpiod_line *raw = gpiod_chip_get_line(chip->chip, offset);
    if (raw == NULL || gpiod_line_update(raw) != 0) return NULL;
    return make_line(gpiod_line_name(raw), gpiod_line_consumer(raw), gpiod_line_is_used(raw),
                     gpiod_line_direction(raw) == GPIOD_LINE_DIRECTION_OUTPUT,
                     gpiod_line_active_state(raw) == GPIOD_LINE_ACTIVE_STATE_LOW);
}

#else

const char *iogate_gpiod_library_version(void) { return gpiod_api_version(); }

iogate_gpiod_chip *iogate_gpiod_chip_open(const char *path) {
    // gpiod_chip_open (2.x) checks through sysfs that the node is a GPIO chip and opens it; name,
    // label and line count come in a separate chip-info object that the caller frees.
    struct gpiod_chip *raw = gpiod_chip_open(path);
    if (raw == NULL) return NULL;
    struct gpiod_chip_info *info = gpiod_chip_get_info(raw);
    if (info == NULL) {
        int saved = errno;
        gpiod_chip_close(raw);
        errno = saved;
        return NULL;
    }
    iogate_gpiod_chip *chip = wrap_chip(raw, gpiod_chip_info_get_name(info), gpiod_chip_info_get_label(info),
                                        gpiod_chip_info_get_num_lines(info));
    int saved = errno;
    gpiod_chip_info_free(info);
    errno = saved;
    return chip;
}

iogate_gpiod_line *iogate_gpiod_line_get(iogate_gpiod_chip *chip, unsigned int offset) {
    // A fresh snapshot from the kernel (GPIO_V2_GET_LINEINFO_IOCTL) that the caller frees.
    struct gpiod_line_info *info = gpiod_chip_get_line_info(chip->chip, offset);
    if (info == NULL) return NULL;
    iogate_gpiod_line *line = make_line(gpiod_line_info_get_name(info), gpiod_line_info_get_consumer(info),
                                        gpiod_line_info_is_used(info),
                                        gpiod_line_info_get_direction(info) == GPIOD_LINE_DIRECTION_OUTPUT,
                                        gpiod_line_info_is_active_low(info));
    int saved = errno;
    gpiod_line_info_free(info);
    errno = saved;
    return line;
}

#endif

int iogate_gpiod_api_major(void) { return IOGATE_GPIOD_API_MAJOR; }

void iogate_gpiod_chip_close(iogate_gpiod_chip *chip) {
    if (chip == NULL) return;
    gpiod_chip_close(chip->chip);
    free(chip->name);
    free(chip->label);
    free(chip);
}

const char *iogate_gpiod_chip_name(const iogate_gpiod_chip *chip) { return chip->name; }
const char *iogate_gpiod_chip_label(const iogate_gpiod_chip *chip) { return chip->label; }
size_t iogate_gpiod_chip_num_lines(const iogate_gpiod_chip *chip) { return chip->num_lines; }

void iogate_gpiod_line_free(iogate_gpiod_line *line) { line_free(line); }
const char *iogate_gpiod_line_name(const iogate_gpiod_line *line) { return line->name; }
const char *iogate_gpiod_line_consumer(const iogate_gpiod_line *line) { return line->consumer; }
bool iogate_gpiod_line_is_used(const iogate_gpiod_line *line) { return line->used; }
bool iogate_gpiod_line_is_output(const iogate_gpiod_line *line) { return line->output; }
bool iogate_gpiod_line_is_active_low(const iogate_gpiod_line *line) { return line->active_low; }
