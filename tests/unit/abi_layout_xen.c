/* abi_layout_xen.c (host test): layout table of libxen-dev's public headers, the reference for test_abi_layout.c. */
#include <stdint.h>
#include <stddef.h>

/*
 * Without this, xen-compat.h selects interface version 0 for a guest build,
 * which brings back pre-3.0 layouts (bare-pointer handles, no pvclock flags).
 * Wisp implements the current interface, the latest this Xen release knows.
 */
#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/elfnote.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/vcpu.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include "abi_layout.h"

ABI_LAYOUT_DEFINE_TABLES(abi_tables_xen);
