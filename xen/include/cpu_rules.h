/* cpu_rules.h (hypervisor, pure): the architectural rules for guest writes to XCR0, CR0, CR4 and
 * EFER, and the fixed MOV-to-CR pattern; host-testable (unit.cpu_rules). */
#ifndef WISP_CPU_RULES_H
#define WISP_CPU_RULES_H

#include "env.h"

/* XCR0 state components (SDM vol 1, 13.1 and 13.3; CPUID 0xD.0 EDX:EAX lists the supported ones). */
#define XCR0_X87        (1ull << 0)
#define XCR0_SSE        (1ull << 1)
#define XCR0_YMM        (1ull << 2)     /* AVX */
#define XCR0_BNDREGS    (1ull << 3)     /* MPX bound registers */
#define XCR0_BNDCSR     (1ull << 4)     /* MPX configuration and status */
#define XCR0_OPMASK     (1ull << 5)     /* AVX-512 k0-k7 */
#define XCR0_ZMM_HI256  (1ull << 6)     /* AVX-512 upper halves of ZMM0-15 */
#define XCR0_HI16_ZMM   (1ull << 7)     /* AVX-512 ZMM16-31 */
#define XCR0_TILECFG    (1ull << 17)    /* AMX */
#define XCR0_TILEDATA   (1ull << 18)
#define XCR0_AVX512     (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XCR0_MPX        (XCR0_BNDREGS | XCR0_BNDCSR)
#define XCR0_AMX        (XCR0_TILECFG | XCR0_TILEDATA)

#define CR3_PCID_MASK   0xfffull        /* CR3 bits 11:0 with CR4.PCIDE (SDM vol 3, 4.10.1) */

/*
 * True when XSETBV(index, value) is architecturally valid on a CPU whose
 * supported XCR0 bits are `supported` (SDM vol 2, XSETBV; vol 1, 13.3). These
 * are the conditions under which the host's own XSETBV would #GP.
 */
bool xcr0_valid(uint32_t index, uint64_t value, uint64_t supported);

/* The guest's state a MOV to CR0/CR4 is checked against. */
struct cr_state {
    uint64_t cr0, cr3, cr4, efer;
};

/* True when MOV to CR0 of `value` would not #GP (SDM vol 3, 2.5, 4.1.1; MOV CRn in vol 2). */
bool cr0_write_valid(const struct cr_state *s, uint64_t value);

/*
 * True when MOV to CR4 of `value` would not #GP on a CPU that offers exactly
 * the CR4 bits in `allowed` (the vCPU's CPUID): no other bit, PAE kept in
 * long mode, LA57 unchanged in long mode, PCIDE only in long mode with
 * CR3[11:0] = 0, CET only with CR0.WP.
 */
bool cr4_write_valid(const struct cr_state *s, uint64_t value, uint64_t allowed);

/*
 * True when WRMSR EFER of `value` would not #GP: only bits in `allowed`
 * (plus LMA, which the CPU owns) and LME unchanged while paging is on
 * (AMD APM vol 2, 3.1.7 and 14.6.1; SDM vol 3, 10.8.5).
 */
bool efer_write_valid(const struct cr_state *s, uint64_t value, uint64_t allowed);

/*
 * The fixed encoding of MOV to CRn: up to four ignored legacy prefixes,
 * in 64-bit mode an optional REX, then 0F 22 /r whose reg field (+REX.R) is
 * the control register and r/m (+REX.B) the general register (SDM vol 2,
 * MOV-Move to/from Control Registers: mod is ignored). Returns the register
 * number and the instruction length when `insn` holds that pattern for `cr`;
 * false for anything else. A pattern match, not a decoder.
 */
bool mov_to_cr_match(const uint8_t *insn, size_t len, bool mode64, unsigned cr,
                     unsigned *gpr, unsigned *insn_len);

#define MOV_TO_CR_MAX_LEN 8     /* 4 prefixes + REX + 0F 22 ModRM */

#endif
