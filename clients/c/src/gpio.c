/*
 * libiogate GPIO helpers: pins of BCM2835/BCM2711 (Raspberry Pi 1-4), RP1 (Raspberry Pi 5) and
 * OMAP4/AM335x GPIO blocks, driven through register operations on iogated.
 *
 * Register figures, from the Linux drivers (torvalds/linux):
 *   bcm2835/bcm2711 (drivers/pinctrl/bcm/pinctrl-bcm2835.c): function select registers from 0x00,
 *     10 pins per register, 3 bits per pin; set 0x1c, clear 0x28, level 0x34, 32 pins per
 *     register; bcm2835 pulls through GPPUD 0x94 and GPPUDCLK0 0x98; bcm2711 pull fields from 0xe4,
 *     16 pins per register, 2 bits per pin.
 *   rp1 (drivers/pinctrl/pinctrl-rp1.c): banks of 28, 6 and 20 pins at 0x0000, 0x4000, 0x8000 of
 *     the IO, RIO (+0x10000) and PADS (+0x20000) blocks; CTRL at bank + 8 * line + 4; RIO OUT +0,
 *     OE +4, IN +8 with set/clear aliases at +0x2000/+0x3000; pad at pads bank + 4 + 4 * line.
 *   omap (drivers/gpio/gpio-omap.c): OE 0x134 (1 = input), DATAIN 0x138, CLEARDATAOUT 0x190,
 *     SETDATAOUT 0x194.
 */
#define _POSIX_C_SOURCE 200809L

#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* BCM283x/BCM2711 */
#define BCM_FSEL0 0x00u
#define BCM_SET0 0x1cu
#define BCM_CLR0 0x28u
#define BCM_LEV0 0x34u
#define BCM_PUD 0x94u
#define BCM_PUDCLK0 0x98u
#define BCM2711_PULL0 0xe4u
/* RP1 */
#define RP1_RIO 0x10000u
#define RP1_PADS 0x20000u
#define RP1_RIO_OUT 0x0u
#define RP1_RIO_OE 0x4u
#define RP1_RIO_IN 0x8u
#define RP1_ALIAS_SET 0x2000u
#define RP1_ALIAS_CLEAR 0x3000u
#define RP1_FUNCSEL_MASK 0x1fu
#define RP1_FUNCSEL_GPIO 5u
#define RP1_FUNCSEL_NONE 0x1fu
#define RP1_OUTOVER_MASK (3u << 12)
#define RP1_OEOVER_SHIFT 14
#define RP1_OEOVER_MASK (3u << RP1_OEOVER_SHIFT)
#define RP1_PAD_PULL_SHIFT 2
#define RP1_PAD_PULL_MASK (3u << RP1_PAD_PULL_SHIFT)
#define RP1_PAD_IE (1u << 6)
#define RP1_PAD_OD (1u << 7)
/* OMAP4/AM335x */
#define OMAP_OE 0x134u
#define OMAP_DATAIN 0x138u
#define OMAP_CLEARDATAOUT 0x190u
#define OMAP_SETDATAOUT 0x194u

static const struct {
    const char *name;
    enum iogate_gpio_model model;
    unsigned max_pins;
} models[] = {
    {"bcm2835", IOGATE_GPIO_BCM2835, 54},
    {"bcm2711", IOGATE_GPIO_BCM2711, 58},
    {"rp1", IOGATE_GPIO_RP1, 54},
    {"omap", IOGATE_GPIO_OMAP, 32},
};

/* The 3-bit function codes of BCM2835_FSEL_*, indexed by mode (in, out, alt0..alt5). */
static const uint32_t bcm_codes[] = {0, 1, 4, 5, 6, 7, 3, 2};

static const char *model_name(enum iogate_gpio_model m) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (models[i].model == m) return models[i].name;
    return "unknown";
}

/* The RP1 bank of a line: its offset inside each block and the line's index in the bank. */
static void rp1_bank(unsigned line, uint64_t *bank_offset, unsigned *index) {
    if (line < 28) {
        *bank_offset = 0x0000;
        *index = line;
    } else if (line < 34) {
        *bank_offset = 0x4000;
        *index = line - 28;
    } else {
        *bank_offset = 0x8000;
        *index = line - 34;
    }
}

static uint64_t rp1_ctrl(const struct iogate_pin *p) {
    uint64_t bank;
    unsigned i;
    rp1_bank(p->line, &bank, &i);
    return p->base + bank + 8u * i + 4u;
}

static uint64_t rp1_pad(const struct iogate_pin *p) {
    uint64_t bank;
    unsigned i;
    rp1_bank(p->line, &bank, &i);
    return p->base + RP1_PADS + bank + 4u + 4u * i;
}

/* The RIO register `reg` (+ alias) of the pin's bank, and the pin's bit in it. */
static uint64_t rp1_rio(const struct iogate_pin *p, uint64_t reg, uint64_t alias, uint32_t *bit) {
    uint64_t bank;
    unsigned i;
    rp1_bank(p->line, &bank, &i);
    *bit = 1u << i;
    return p->base + RP1_RIO + bank + reg + alias;
}

/* A bank register of 32 one-bit fields (bcm set/clear/level) and the pin's bit in it. */
static uint64_t bank32(const struct iogate_pin *p, uint64_t first, uint32_t *bit) {
    *bit = 1u << (p->line % 32);
    return p->base + first + 4u * (p->line / 32);
}

static int check_pin(iogate_t *g, const struct iogate_pin *p) {
    if (!g) return -EINVAL;
    if (!p) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "pin is NULL");
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (models[i].model == p->model) {
            if (p->line < models[i].max_pins) return 0;
            return iogate__fail(g, IOGATE_ST_NOT_FOUND, ENOENT, "pin %u does not exist on a %s block; pins 0...%u", p->line,
                                models[i].name, models[i].max_pins - 1);
        }
    return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "pin has an unknown GPIO model %d", (int)p->model);
}

/* The index in models[] of a window's GPIO register model, or -1 when it has none this library knows. */
static int window_model(const struct iogate_window *w) {
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++)
        if (strcmp(w->model, models[m].name) == 0 && w->pins > 0 && w->pins <= models[m].max_pins) return (int)m;
    return -1;
}

/* Finds a pin by its number across the GPIO windows (window == NULL) or by window and line. */
static int find_pin(iogate_t *g, const char *window, unsigned number, struct iogate_pin *pin) {
    if (!g) return -EINVAL;
    if (!pin) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "pin is NULL");
    struct iogate_window *ws;
    size_t n;
    int rc = iogate_windows(g, &ws, &n);
    if (rc) return rc;
    unsigned first = 0;
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int m = window_model(&ws[i]);
        if (m < 0) continue;
        int k = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", ws[i].name);
        if (k > 0 && (size_t)k < sizeof names - used) used += (size_t)k;
        unsigned line = window ? number : number - first;
        int match = window ? strcmp(ws[i].name, window) == 0 : number >= first && number < first + ws[i].pins;
        if (match && line < ws[i].pins) {
            memset(pin, 0, sizeof *pin);
            pin->base = ws[i].base;
            pin->model = models[m].model;
            pin->line = line;
            pin->number = first + line;
            snprintf(pin->window, sizeof pin->window, "%s", ws[i].name);
            iogate_windows_free(ws);
            return 0;
        }
        if (match) {
            rc = iogate__fail(g, IOGATE_ST_NOT_FOUND, ENOENT, "pin %u does not exist in GPIO window '%s'; its pins are 0...%u", number,
                              ws[i].name, ws[i].pins - 1u);
            iogate_windows_free(ws);
            return rc;
        }
        first += ws[i].pins;
    }
    iogate_windows_free(ws);
    if (first == 0)
        return iogate__fail(g, IOGATE_ST_NOT_FOUND, ENOENT,
                            "no GPIO window with a supported register model (bcm2835, bcm2711, rp1, omap) is granted to you");
    if (window)
        return iogate__fail(g, IOGATE_ST_NOT_FOUND, ENOENT, "no GPIO window '%s' is granted to you; GPIO windows: %s", window, names);
    return iogate__fail(g, IOGATE_ST_NOT_FOUND, ENOENT, "pin %u does not exist; the granted GPIO windows have pins 0...%u", number,
                        first - 1);
}

IOGATE_EXPORT int iogate_gpio_pin(iogate_t *g, unsigned number, struct iogate_pin *pin) { return find_pin(g, NULL, number, pin); }

IOGATE_EXPORT int iogate_gpio_pin_in(iogate_t *g, const char *window, unsigned line, struct iogate_pin *pin) {
    if (g && !window) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_gpio_pin_in: window is NULL");
    return find_pin(g, window, line, pin);
}

static int bad_mode(iogate_t *g, const struct iogate_pin *p, enum iogate_gpio_mode mode) {
    const char *allowed = p->model == IOGATE_GPIO_RP1   ? "in, out, alt0-alt4, alt6-alt8, none (RP1's a5 is the GPIO function: use in or out)"
                          : p->model == IOGATE_GPIO_OMAP ? "in, out (OMAP pin muxing is in the control module)"
                                                         : "in, out, alt0-alt5";
    return iogate__fail(g, IOGATE_ST_NOT_FOUND, EINVAL, "mode %s does not exist on a %s GPIO block; allowed: %s",
                        iogate_gpio_mode_name(mode), model_name(p->model), allowed);
}

IOGATE_EXPORT int iogate_gpio_set_mode(iogate_t *g, const struct iogate_pin *p, enum iogate_gpio_mode mode) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    switch (p->model) {
    case IOGATE_GPIO_BCM2835:
    case IOGATE_GPIO_BCM2711: {
        if ((unsigned)mode > IOGATE_MODE_ALT0 + 5u) return bad_mode(g, p, mode);
        unsigned shift = 3u * (p->line % 10);
        uint64_t reg = p->base + BCM_FSEL0 + 4u * (p->line / 10);
        return iogate_modify(g, reg, 4, (uint64_t)7 << shift, (uint64_t)bcm_codes[mode] << shift, NULL);
    }
    case IOGATE_GPIO_OMAP: {
        if (mode != IOGATE_MODE_IN && mode != IOGATE_MODE_OUT) return bad_mode(g, p, mode);
        uint64_t bit = (uint64_t)1 << p->line;
        return iogate_modify(g, p->base + OMAP_OE, 4, bit, mode == IOGATE_MODE_IN ? bit : 0, NULL);
    }
    case IOGATE_GPIO_RP1: {
        uint32_t code;
        if (mode == IOGATE_MODE_IN || mode == IOGATE_MODE_OUT) code = RP1_FUNCSEL_GPIO;
        else if (mode == IOGATE_MODE_NONE) code = RP1_FUNCSEL_NONE;
        else if (mode >= IOGATE_MODE_ALT0 && mode <= IOGATE_MODE_ALT8 && mode != IOGATE_MODE_ALT0 + 5) code = (uint32_t)(mode - IOGATE_MODE_ALT0);
        else return bad_mode(g, p, mode);
        /* As pinctrl-rp1.c: output enable first (set for out, cleared for in, so the pin never
         * glitches), the pad's input enabled and output not disabled, then FUNCSEL with the
         * output and output-enable overrides back to "peripheral". One batch: all or nothing. */
        iogate_batch_t *b;
        if ((rc = iogate_batch_new(&b))) return iogate__fail(g, IOGATE_ST_SYSTEM, -rc, "out of memory");
        if (mode == IOGATE_MODE_IN || mode == IOGATE_MODE_OUT) {
            uint32_t bit;
            uint64_t oe = rp1_rio(p, RP1_RIO_OE, mode == IOGATE_MODE_OUT ? RP1_ALIAS_SET : RP1_ALIAS_CLEAR, &bit);
            rc = iogate_batch_write(b, oe, 4, bit);
        }
        if (rc >= 0) rc = iogate_batch_modify(b, rp1_pad(p), 4, RP1_PAD_IE | RP1_PAD_OD, RP1_PAD_IE);
        if (rc >= 0) rc = iogate_batch_modify(b, rp1_ctrl(p), 4, RP1_FUNCSEL_MASK | RP1_OUTOVER_MASK | RP1_OEOVER_MASK, code);
        rc = rc < 0 ? iogate__fail(g, IOGATE_ST_SYSTEM, -rc, "cannot build the batch") : iogate_batch_run(g, b, NULL);
        iogate_batch_free(b);
        return rc;
    }
    }
    return -EINVAL;
}

IOGATE_EXPORT int iogate_gpio_get_mode(iogate_t *g, const struct iogate_pin *p, enum iogate_gpio_mode *mode) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    if (!mode) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_gpio_get_mode: mode is NULL");
    uint64_t v;
    switch (p->model) {
    case IOGATE_GPIO_BCM2835:
    case IOGATE_GPIO_BCM2711: {
        if ((rc = iogate_read(g, p->base + BCM_FSEL0 + 4u * (p->line / 10), 4, &v))) return rc;
        uint32_t code = (uint32_t)(v >> (3u * (p->line % 10))) & 7u;
        for (unsigned m = 0; m < sizeof bcm_codes / sizeof bcm_codes[0]; m++)
            if (bcm_codes[m] == code) *mode = (enum iogate_gpio_mode)m;
        return 0;
    }
    case IOGATE_GPIO_OMAP:
        if ((rc = iogate_read(g, p->base + OMAP_OE, 4, &v))) return rc;
        *mode = (v >> p->line) & 1 ? IOGATE_MODE_IN : IOGATE_MODE_OUT;
        return 0;
    case IOGATE_GPIO_RP1: {
        if ((rc = iogate_read(g, rp1_ctrl(p), 4, &v))) return rc;
        uint32_t funcsel = (uint32_t)v & RP1_FUNCSEL_MASK;
        if (((uint32_t)v & RP1_OEOVER_MASK) != 0 || funcsel > 8) {
            *mode = IOGATE_MODE_NONE;
        } else if (funcsel == RP1_FUNCSEL_GPIO) {
            uint32_t bit;
            uint64_t oe = rp1_rio(p, RP1_RIO_OE, 0, &bit);
            if ((rc = iogate_read(g, oe, 4, &v))) return rc;
            *mode = (v & bit) ? IOGATE_MODE_OUT : IOGATE_MODE_IN;
        } else {
            *mode = (enum iogate_gpio_mode)(IOGATE_MODE_ALT0 + funcsel);
        }
        return 0;
    }
    }
    return -EINVAL;
}

IOGATE_EXPORT int iogate_gpio_set(iogate_t *g, const struct iogate_pin *p, int level) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    uint32_t bit;
    uint64_t reg;
    switch (p->model) {
    case IOGATE_GPIO_RP1: reg = rp1_rio(p, RP1_RIO_OUT, level ? RP1_ALIAS_SET : RP1_ALIAS_CLEAR, &bit); break;
    case IOGATE_GPIO_OMAP:
        bit = 1u << p->line;
        reg = p->base + (level ? OMAP_SETDATAOUT : OMAP_CLEARDATAOUT);
        break;
    default: reg = bank32(p, level ? BCM_SET0 : BCM_CLR0, &bit); break;
    }
    return iogate_write(g, reg, 4, bit);
}

IOGATE_EXPORT int iogate_gpio_get(iogate_t *g, const struct iogate_pin *p, int *level) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    if (!level) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_gpio_get: level is NULL");
    uint32_t bit;
    uint64_t reg, v;
    switch (p->model) {
    case IOGATE_GPIO_RP1: reg = rp1_rio(p, RP1_RIO_IN, 0, &bit); break;
    case IOGATE_GPIO_OMAP:
        bit = 1u << p->line;
        reg = p->base + OMAP_DATAIN;
        break;
    default: reg = bank32(p, BCM_LEV0, &bit); break;
    }
    if ((rc = iogate_read(g, reg, 4, &v))) return rc;
    *level = (v & bit) != 0;
    return 0;
}

static void pause_us(long us) {
    struct timespec t = {0, us * 1000L}, rest;
    while (nanosleep(&t, &rest) != 0 && errno == EINTR) t = rest;
}

IOGATE_EXPORT int iogate_gpio_set_pull(iogate_t *g, const struct iogate_pin *p, enum iogate_gpio_pull pull) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    if (pull != IOGATE_PULL_NONE && pull != IOGATE_PULL_UP && pull != IOGATE_PULL_DOWN)
        return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "pull %d is not none, up or down", (int)pull);
    /* Codes: bcm2711 none 0, up 1, down 2; bcm2835 GPPUD and rp1 none 0, down 1, up 2. */
    uint32_t code = pull == IOGATE_PULL_NONE ? 0 : (pull == IOGATE_PULL_UP) == (p->model == IOGATE_GPIO_BCM2711) ? 1 : 2;
    switch (p->model) {
    case IOGATE_GPIO_BCM2711: {
        unsigned shift = 2u * (p->line % 16);
        return iogate_modify(g, p->base + BCM2711_PULL0 + 4u * (p->line / 16), 4, (uint64_t)3 << shift, (uint64_t)code << shift, NULL);
    }
    case IOGATE_GPIO_RP1:
        return iogate_modify(g, rp1_pad(p), 4, RP1_PAD_PULL_MASK, (uint64_t)code << RP1_PAD_PULL_SHIFT, NULL);
    case IOGATE_GPIO_BCM2835: {
        /* pinctrl-bcm2835.c's bcm2835_pull_config_set: the code to GPPUD, wait, clock the pin in,
         * wait, clear both (the driver waits 150 cycles; 2 us is more at any clock). */
        uint32_t bit;
        uint64_t clock = bank32(p, BCM_PUDCLK0, &bit);
        if ((rc = iogate_write(g, p->base + BCM_PUD, 4, code))) return rc;
        pause_us(2);
        if ((rc = iogate_write(g, clock, 4, bit))) return rc;
        pause_us(2);
        if ((rc = iogate_write(g, p->base + BCM_PUD, 4, 0))) return rc;
        return iogate_write(g, clock, 4, 0);
    }
    case IOGATE_GPIO_OMAP:
        return iogate__fail(g, IOGATE_ST_NOT_FOUND, EOPNOTSUPP,
                            "an omap GPIO block has no pull registers; pulls are set in the SoC's pad control registers");
    }
    return -EINVAL;
}

IOGATE_EXPORT int iogate_gpio_get_pull(iogate_t *g, const struct iogate_pin *p, enum iogate_gpio_pull *pull) {
    int rc = check_pin(g, p);
    if (rc) return rc;
    if (!pull) return iogate__fail(g, IOGATE_ST_MALFORMED, EINVAL, "iogate_gpio_get_pull: pull is NULL");
    uint64_t v;
    uint32_t code;
    switch (p->model) {
    case IOGATE_GPIO_BCM2711:
        if ((rc = iogate_read(g, p->base + BCM2711_PULL0 + 4u * (p->line / 16), 4, &v))) return rc;
        code = (uint32_t)(v >> (2u * (p->line % 16))) & 3u;
        break;
    case IOGATE_GPIO_RP1:
        if ((rc = iogate_read(g, rp1_pad(p), 4, &v))) return rc;
        code = ((uint32_t)v & RP1_PAD_PULL_MASK) >> RP1_PAD_PULL_SHIFT;
        break;
    default:
        return iogate__fail(g, IOGATE_ST_NOT_FOUND, EOPNOTSUPP, "a %s GPIO block's pull cannot be read back%s", model_name(p->model),
                            p->model == IOGATE_GPIO_BCM2835 ? " (GPPUD/GPPUDCLKn latch it write-only)" : "");
    }
    if (code == 3) return iogate__fail(g, IOGATE_ST_MALFORMED, ERANGE, "the pull field of pin %u holds the reserved code 3", p->number);
    *pull = code == 0 ? IOGATE_PULL_NONE : (code == 1) == (p->model == IOGATE_GPIO_BCM2711) ? IOGATE_PULL_UP : IOGATE_PULL_DOWN;
    return 0;
}

static const char *const mode_names[] = {"in", "out", "alt0", "alt1", "alt2", "alt3", "alt4", "alt5", "alt6", "alt7", "alt8", "none"};

IOGATE_EXPORT const char *iogate_gpio_mode_name(enum iogate_gpio_mode mode) {
    return (unsigned)mode < sizeof mode_names / sizeof mode_names[0] ? mode_names[mode] : "unknown";
}

IOGATE_EXPORT int iogate_gpio_parse_mode(const char *text, enum iogate_gpio_mode *mode) {
    if (!text || !mode) return -EINVAL;
    for (unsigned i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (strcmp(text, mode_names[i]) == 0) {
            *mode = (enum iogate_gpio_mode)i;
            return 0;
        }
    return -EINVAL;
}

static const char *const pull_names[] = {"none", "up", "down"};

IOGATE_EXPORT const char *iogate_gpio_pull_name(enum iogate_gpio_pull pull) {
    return (unsigned)pull < 3 ? pull_names[pull] : "unknown";
}

IOGATE_EXPORT int iogate_gpio_parse_pull(const char *text, enum iogate_gpio_pull *pull) {
    if (!text || !pull) return -EINVAL;
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(text, pull_names[i]) == 0) {
            *pull = (enum iogate_gpio_pull)i;
            return 0;
        }
    return -EINVAL;
}
