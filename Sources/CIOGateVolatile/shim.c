#include "iogate_volatile.h"
