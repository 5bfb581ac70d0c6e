/* cpu_rules.c (hypervisor, pure): the architectural rules for guest writes to XCR0, CR0, CR4 and
 * EFER, and the fixed MOV-to-CR pattern; unit.cpu_rules runs it on the host. */
#include "cpu_rules.h"
#include "x86.h"

#define XCR_INDEX_XCR0 0

/* Both or neither: components that the CPU saves and enables together. */
static bool all_or_none(uint64_t value, uint64_t group)
{
    return (value & group) == 0 || (value & group) == group;
}

bool xcr0_valid(uint32_t index, uint64_t value, uint64_t supported)
{
    /* XCR0 is the only XCR that XSETBV writes (XCR1 is read-only, XGETBV only). */
    if (index != XCR_INDEX_XCR0)
        return false;
    if (!(value & XCR0_X87) || (value & ~supported))
        return false;
    if ((value & XCR0_YMM) && !(value & XCR0_SSE))
        return false;
    /* MPX: BNDREGS and BNDCSR together (SDM vol 1, 13.3). */
    if (!all_or_none(value, XCR0_MPX))
        return false;
    /* AVX-512: the three components together, and only on top of AVX. */
    if ((value & XCR0_AVX512) && (!all_or_none(value, XCR0_AVX512) || !(value & XCR0_YMM)))
        return false;
    /* AMX: TILECFG and TILEDATA together. */
    return all_or_none(value, XCR0_AMX);
}

bool cr0_write_valid(const struct cr_state *s, uint64_t value)
{
    bool paging_on = (value & X86_CR0_PG) && !(s->cr0 & X86_CR0_PG);

    if (value >> 32)
        return false;                   /* bits 63:32 are reserved */
    if ((value & X86_CR0_PG) && !(value & X86_CR0_PE))
        return false;
    if ((value & X86_CR0_NW) && !(value & X86_CR0_CD))
        return false;
    /* Long mode needs PAE at the moment paging goes on (SDM vol 3, 10.8.5). */
    if (paging_on && (s->efer & EFER_LME) && !(s->cr4 & X86_CR4_PAE))
        return false;
    /* PCIDs exist only in long mode: paging may not go off under them (4.10.1). */
    if (!(value & X86_CR0_PG) && (s->cr4 & X86_CR4_PCIDE))
        return false;
    /* CET requires write protection (SDM vol 1, 17.2). */
    if (!(value & X86_CR0_WP) && (s->cr4 & X86_CR4_CET))
        return false;
    return true;
}

bool cr4_write_valid(const struct cr_state *s, uint64_t value, uint64_t allowed)
{
    bool long_mode = s->efer & EFER_LMA;

    if (value & ~allowed)
        return false;
    if (long_mode && !(value & X86_CR4_PAE))
        return false;
    if (long_mode && ((value ^ s->cr4) & X86_CR4_LA57))
        return false;
    if ((value & X86_CR4_PCIDE) && !(s->cr4 & X86_CR4_PCIDE) &&
        (!long_mode || (s->cr3 & CR3_PCID_MASK)))
        return false;
    if ((value & X86_CR4_CET) && !(s->cr0 & X86_CR0_WP))
        return false;
    return true;
}

bool efer_write_valid(const struct cr_state *s, uint64_t value, uint64_t allowed)
{
    if (value & ~(allowed | EFER_LMA))
        return false;
    if ((s->cr0 & X86_CR0_PG) && ((value ^ s->efer) & EFER_LME))
        return false;
    return true;
}

/* Prefixes that MOV to CR ignores: operand/address size, segments, REP (SDM vol 2, 2.1.1). */
static bool ignored_prefix(uint8_t b)
{
    switch (b) {
    case 0x66: case 0x67: case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0xf2: case 0xf3:
        return true;
    default:
        return false;
    }
}

#define MAX_IGNORED_PREFIXES 4
#define REX_MIN 0x40
#define REX_MAX 0x4f
#define REX_R   0x4     /* extends ModRM.reg */
#define REX_B   0x1     /* extends ModRM.rm */
#define OPCODE_ESCAPE 0x0f
#define OPCODE_MOV_TO_CR 0x22
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m)  ((m) & 7)

bool mov_to_cr_match(const uint8_t *insn, size_t len, bool mode64, unsigned cr,
                     unsigned *gpr, unsigned *insn_len)
{
    size_t i = 0;
    uint8_t rex = 0;

    while (i < len && i < MAX_IGNORED_PREFIXES && ignored_prefix(insn[i]))
        i++;
    /* REX exists only in 64-bit mode; elsewhere 0x40-0x4f are INC/DEC. */
    if (mode64 && i < len && insn[i] >= REX_MIN && insn[i] <= REX_MAX)
        rex = insn[i++];
    if (i + 3 > len || insn[i] != OPCODE_ESCAPE || insn[i + 1] != OPCODE_MOV_TO_CR)
        return false;
    uint8_t modrm = insn[i + 2];
    unsigned reg = MODRM_REG(modrm) | (rex & REX_R ? 8 : 0);

    if (reg != cr)
        return false;
    *gpr = MODRM_RM(modrm) | (rex & REX_B ? 8 : 0);
    *insn_len = (unsigned)(i + 3);
    return true;
}
