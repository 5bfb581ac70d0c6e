/* spec_asm.h (hypervisor, assembly): return stack buffer stuffing for the VM exit paths (spec_ctrl.h says when). */
#ifndef WISP_SPEC_ASM_H
#define WISP_SPEC_ASM_H

/* Entries in the deepest return stack buffer of current parts (Intel "Retpoline" paper, RSB). */
#define RSB_ENTRIES 32

/*
 * Fills every RSB entry with a return address that leads only to INT3, so no
 * host RET after a VM exit can be speculated to a target the guest planted
 * (Intel "Speculative Execution Side Channel Mitigations", RSB stuffing; AMD
 * "Software Techniques for Managing Speculation"; Xen's DO_OVERWRITE_RSB).
 * Changes RSP (restored) and nothing else; needs interrupts held, which both
 * exit paths have (IF=0 after a VMX exit, GIF=0 after VMRUN).
 */
.macro RSB_STUFF
    .rept RSB_ENTRIES
    call 1f
    int3
1:
    .endr
    add $(8 * RSB_ENTRIES), %rsp
.endm

#endif
