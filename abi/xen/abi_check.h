/* abi_check.h (hypervisor, guest, host test): compile-time layout checks used by the abi/ headers. */
#ifndef WISP_ABI_XEN_ABI_CHECK_H
#define WISP_ABI_XEN_ABI_CHECK_H

#include <stddef.h>

/*
 * The byte layout of every abi/ structure is the contract with guests, so
 * each header pins sizes and offsets at compile time. The message names the
 * structure and field, which is what one wants to read when a build breaks.
 */
#define ABI_SIZE(type, bytes) \
    _Static_assert(sizeof(type) == (bytes), "ABI size of " #type)
#define ABI_OFFSET(type, field, bytes) \
    _Static_assert(offsetof(type, field) == (bytes), "ABI offset of " #type "." #field)

#endif
