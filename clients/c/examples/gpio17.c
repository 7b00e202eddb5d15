/* Drives GPIO17 high through iogated and reads it back: cc gpio17.c $(pkg-config --cflags --libs iogate) */
#include <iogate.h>
#include <stdio.h>

int main(void) {
    iogate_t *g;
    struct iogate_pin led;
    int level = -1, rc = iogate_open(NULL, &g); /* $IOGATE_SOCKET, else /run/iogate/iogate.sock */
    if (rc != 0) return fprintf(stderr, "cannot reach iogated: error %d\n", rc), 3;
    if ((rc = iogate_gpio_pin(g, 17, &led)) || (rc = iogate_gpio_set_mode(g, &led, IOGATE_MODE_OUT)) ||
        (rc = iogate_gpio_set(g, &led, 1)) || (rc = iogate_gpio_get(g, &led, &level)))
        fprintf(stderr, "gpio17: %s (%s)\n", iogate_errmsg(g), iogate_status_name(iogate_status(g)));
    else
        printf("GPIO%u (%s line %u) is %d\n", led.number, led.window, led.line, level);
    iogate_close(g);
    return rc == 0 && level == 1 ? 0 : 1;
}
