/* par_entry.S (guest, par64): where vCPU 1 begins once VCPUOP_initialise/up start it in 64-bit mode. */
#include "x86.h"

/*
 * A vcpu_hvm_context gives segments without selectors: load the runtime's GDT
 * and real selectors first (as vcpuop_entry.S), then run par_ap_main on the
 * stack the context gave.
 */
    .text
    .code64
    .globl par_entry64
par_entry64:
    RELOAD_GDT64
    call par_ap_main
2:  cli
    hlt
    jmp 2b

    .section .note.GNU-stack, "", @progbits
