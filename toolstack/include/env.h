/* env.h for host builds (toolstack, unit tests): the pure modules' view of libc. */
#ifndef WISP_ENV_H
#define WISP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WISP_HOST 1
#define __must_check __attribute__((warn_unused_result))

#endif
