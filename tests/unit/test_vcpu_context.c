/* test_vcpu_context.c (host test): vCPU start states, and VCPUOP_initialise's checks on hostile contexts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "env.h"
#include "errno.h"
#include "vcpu_context.h"
#include "xen/vcpu.h"

/* Expected values written out from the manuals, not taken from the module's names. */
#define CR0_PE 0x1u
#define CR0_ET 0x10u
#define CR0_NW (1u << 29)
#define CR0_PG 0x80000000u
#define CR4_PAE 0x20u
#define CR4_VMXE 0x2000u
#define CR4_LA57 0x1000u
#define CR4_PCIDE 0x20000u
#define CR4_OSXSAVE 0x40000u
/* What the caller says this vCPU's features allow: PSE, PAE, PGE, OSFXSR, OSXMMEXCPT, PCIDE, OSXSAVE. */
#define CR4_VALID (0x10u | CR4_PAE | 0x80u | 0x200u | 0x400u | CR4_PCIDE | CR4_OSXSAVE)
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define EFER_SVME 0x1000u
#define AR_CODE32_FLAT 0xc9bu     /* P, S, execute/read accessed, D, G */
#define AR_CODE32_NOT_ACCESSED 0xc9au
#define AR_DATA32_FLAT 0xc93u
#define AR_DATA32_NOT_ACCESSED 0xc92u
#define AR_CODE64_FLAT 0xa9bu     /* as Xen's hvm/domain.c loads for VCPU_HVM_MODE_64B */
#define AR_TSS32_BUSY 0x08bu
#define AR_TSS16_BUSY 0x083u

/* A valid flat 32-bit protected-mode context, paging off. */
static struct vcpu_hvm_context flat32(void)
{
    struct vcpu_hvm_context c;

    memset(&c, 0, sizeof(c));
    c.mode = VCPU_HVM_MODE_32B;
    struct vcpu_hvm_x86_32 *r = &c.cpu_regs.x86_32;
    r->eip = 0x100000;
    r->esp = 0x8000;
    r->ebx = 0x1234;
    r->eflags = 0x2;
    r->cr0 = CR0_PE;
    r->cs_limit = r->ds_limit = r->ss_limit = r->es_limit = 0xffffffff;
    r->cs_ar = AR_CODE32_NOT_ACCESSED;
    r->ds_ar = r->ss_ar = r->es_ar = AR_DATA32_NOT_ACCESSED;
    r->tr_limit = 0x67;
    r->tr_ar = AR_TSS32_BUSY;
    return c;
}

/* A valid 64-bit context: long mode, paging on. */
static struct vcpu_hvm_context long64(void)
{
    struct vcpu_hvm_context c;

    memset(&c, 0, sizeof(c));
    c.mode = VCPU_HVM_MODE_64B;
    struct vcpu_hvm_x86_64 *r = &c.cpu_regs.x86_64;
    r->rip = 0xffffffff81000000ull;
    r->rsp = 0xffffffff82000000ull;
    r->rdi = 7;
    r->rflags = 0x2;
    r->cr0 = CR0_PE | CR0_PG;
    r->cr3 = 0x200000;
    r->cr4 = CR4_PAE;
    r->efer = EFER_LME;
    return c;
}

static void test_pvh_entry(void **state)
{
    struct vcpu_context c;

    vcpu_context_pvh_entry(&c, 0x1000000, 0x5000);
    assert_int_equal(c.regs.rip, 0x1000000);
    assert_int_equal(c.regs.rbx, 0x5000);       /* hvm_start_info (pvh.pandoc) */
    assert_int_equal(c.regs.rflags, 0x2);
    assert_int_equal(c.cr0, CR0_PE | CR0_ET);
    assert_int_equal(c.cr4, 0);
    assert_int_equal(c.efer, 0);
    assert_int_equal(c.cs.attrib, AR_CODE32_FLAT);
    assert_int_equal(c.cs.limit, 0xffffffff);
    assert_int_equal(c.cs.base, 0);
    assert_int_equal(c.ds.attrib, AR_DATA32_FLAT);
    assert_memory_equal(&c.ds, &c.ss, sizeof(c.ds));
    assert_memory_equal(&c.ds, &c.gs, sizeof(c.ds));
    assert_int_equal(c.tr.attrib, AR_TSS32_BUSY);
    assert_int_equal(c.tr.limit, 0x67);
}

static void test_startup_ipi(void **state)
{
    struct vcpu_context c;

    vcpu_context_startup_ipi(&c, 0x9a);
    /* SDM vol 3, 9.4.4: CS = vector << 8, base vector << 12, IP = 0, real mode. */
    assert_int_equal(c.cs.sel, 0x9a00);
    assert_int_equal(c.cs.base, 0x9a000);
    assert_int_equal(c.cs.limit, 0xffff);
    assert_int_equal(c.regs.rip, 0);
    assert_int_equal(c.cr0 & CR0_PE, 0);
    assert_int_equal(c.ds.base, 0);
    assert_int_equal(c.ds.limit, 0xffff);
    assert_int_not_equal(c.tr.attrib, 0);       /* VM entry needs a usable TR */
}

static void test_64bit_context(void **state)
{
    struct vcpu_hvm_context in = long64();
    struct vcpu_context c;

    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), 0);
    assert_int_equal(c.regs.rip, 0xffffffff81000000ull);
    assert_int_equal(c.regs.rsp, 0xffffffff82000000ull);
    assert_int_equal(c.regs.rdi, 7);
    assert_int_equal(c.efer, EFER_LME | EFER_LMA);      /* LMA follows LME && PG */
    assert_int_equal(c.cr0, CR0_PE | CR0_PG | CR0_ET);
    assert_int_equal(c.cr3, 0x200000);
    assert_int_equal(c.cs.attrib, AR_CODE64_FLAT);
    assert_int_equal(c.ss.attrib, AR_DATA32_FLAT);
    assert_int_equal(c.tr.attrib, AR_TSS32_BUSY);
    assert_int_equal(c.tr.limit, 0x67);
    /* Feature bits the caller allows pass, as when a guest copies its own CR4. */
    in.cpu_regs.x86_64.cr4 = CR4_PAE | CR4_PCIDE | CR4_OSXSAVE;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), 0);
    assert_int_equal(c.cr4, CR4_PAE | CR4_PCIDE | CR4_OSXSAVE);
}

static void test_32bit_context(void **state)
{
    struct vcpu_hvm_context in = flat32();
    struct vcpu_context c;

    in.cpu_regs.x86_32.cs_base = 0x1000;
    in.cpu_regs.x86_32.cs_limit = 0xfffff;      /* byte granular, 1 MiB */
    in.cpu_regs.x86_32.cs_ar = AR_CODE32_NOT_ACCESSED & ~0x800u;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), 0);
    assert_int_equal(c.regs.rip, 0x100000);
    assert_int_equal(c.regs.rsp, 0x8000);
    assert_int_equal(c.regs.rbx, 0x1234);
    assert_int_equal(c.efer, 0);
    assert_int_equal(c.cs.base, 0x1000);
    assert_int_equal(c.cs.limit, 0xfffff);
    /* Loading a descriptor sets its accessed bit; so does Wisp. */
    assert_int_equal(c.cs.attrib, AR_CODE32_FLAT & ~0x800u);
    assert_int_equal(c.ds.attrib, AR_DATA32_FLAT);
    assert_int_equal(c.fs.attrib, AR_DATA32_FLAT);  /* not in the structure: flat */
}

static void test_32bit_compatibility_mode(void **state)
{
    struct vcpu_hvm_context in = flat32();
    struct vcpu_context c;

    in.cpu_regs.x86_32.cr0 = CR0_PE | CR0_PG;
    in.cpu_regs.x86_32.cr4 = CR4_PAE;
    in.cpu_regs.x86_32.efer = EFER_LME;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), 0);
    assert_int_equal(c.efer, EFER_LME | EFER_LMA);
    /* A 16-bit TSS does not exist in long mode. */
    in.cpu_regs.x86_32.tr_ar = AR_TSS16_BUSY;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), -EINVAL);
}

static void test_null_data_segments(void **state)
{
    struct vcpu_hvm_context in = flat32();
    struct vcpu_context c;

    in.cpu_regs.x86_32.ds_ar = 0;
    in.cpu_regs.x86_32.es_ar = 0;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), 0);
    assert_int_equal(c.ds.attrib, 0);
    in = flat32();
    in.cpu_regs.x86_32.ss_ar = 0;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), -EINVAL);
    in = flat32();
    in.cpu_regs.x86_32.cs_ar = 0;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), -EINVAL);
    in = flat32();
    in.cpu_regs.x86_32.tr_ar = 0;
    assert_int_equal(vcpu_context_from_hvm(&c, &in, CR4_VALID), -EINVAL);
}

/* One change each to a valid context; every one must be refused. */
struct hostile {
    const char *what;
    void (*change)(struct vcpu_hvm_context *c);
};

#define R32(c) (&(c)->cpu_regs.x86_32)
#define R64(c) (&(c)->cpu_regs.x86_64)
static void bad_mode(struct vcpu_hvm_context *c) { c->mode = 2; }
static void real_mode(struct vcpu_hvm_context *c) { R32(c)->cr0 = 0; }
static void paging_without_pe(struct vcpu_hvm_context *c) { R32(c)->cr0 = CR0_PG; }
static void nw_without_cd(struct vcpu_hvm_context *c) { R32(c)->cr0 |= CR0_NW; }
static void unknown_cr0_bit(struct vcpu_hvm_context *c) { R32(c)->cr0 |= 1u << 7; }
static void cr4_vmxe(struct vcpu_hvm_context *c) { R32(c)->cr4 = CR4_VMXE; }
static void cr4_not_offered(struct vcpu_hvm_context *c) { R32(c)->cr4 = CR4_LA57; }
static void pcid_outside_long_mode(struct vcpu_hvm_context *c) { R32(c)->cr4 = CR4_PCIDE; }
static void efer_svme(struct vcpu_hvm_context *c) { R32(c)->efer = EFER_SVME; }
static void long_mode_without_pae(struct vcpu_hvm_context *c)
{
    R32(c)->cr0 = CR0_PE | CR0_PG;
    R32(c)->efer = EFER_LME;
}
static void eflags_reserved(struct vcpu_hvm_context *c) { R32(c)->eflags |= 1u << 3; }
static void eflags_high(struct vcpu_hvm_context *c) { R32(c)->eflags |= 1u << 22; }
static void eflags_v8086(struct vcpu_hvm_context *c) { R32(c)->eflags |= 1u << 17; }
static void cs_is_data(struct vcpu_hvm_context *c) { R32(c)->cs_ar = AR_DATA32_FLAT; }
static void cs_ring3(struct vcpu_hvm_context *c) { R32(c)->cs_ar |= 3u << 5; }
static void cs_64bit_in_32b(struct vcpu_hvm_context *c) { R32(c)->cs_ar = AR_CODE64_FLAT; }
static void cs_not_present(struct vcpu_hvm_context *c) { R32(c)->cs_ar &= ~0x80u; }
static void cs_system(struct vcpu_hvm_context *c) { R32(c)->cs_ar &= ~0x10u; }
static void cs_pad_bits(struct vcpu_hvm_context *c) { R32(c)->cs_ar |= 0x1000u; }
static void cs_limit_vs_g(struct vcpu_hvm_context *c) { R32(c)->cs_limit = 0xfffff000u; }
static void cs_big_limit_no_g(struct vcpu_hvm_context *c)
{
    R32(c)->cs_ar &= ~0x800u;
    R32(c)->cs_limit = 0x100000;
}
static void ss_is_code(struct vcpu_hvm_context *c) { R32(c)->ss_ar = AR_CODE32_FLAT; }
static void ss_read_only(struct vcpu_hvm_context *c) { R32(c)->ss_ar = 0xc91u; }
static void ds_execute_only(struct vcpu_hvm_context *c) { R32(c)->ds_ar = 0xc99u; }
static void tr_not_busy(struct vcpu_hvm_context *c) { R32(c)->tr_ar = 0x089u; }
static void tr_data(struct vcpu_hvm_context *c) { R32(c)->tr_ar = AR_DATA32_FLAT; }
static void rip_not_canonical(struct vcpu_hvm_context *c) { R64(c)->rip = 0x0000800000000000ull; }
static void long_without_lme(struct vcpu_hvm_context *c) { R64(c)->efer = 0; }
static void long_without_paging(struct vcpu_hvm_context *c) { R64(c)->cr0 = CR0_PE; }
static void long_without_pae(struct vcpu_hvm_context *c) { R64(c)->cr4 = 0; }
static void long_cr0_high(struct vcpu_hvm_context *c) { R64(c)->cr0 |= 1ull << 32; }
static void long_rflags_high(struct vcpu_hvm_context *c) { R64(c)->rflags |= 1ull << 40; }

static void refuse_all(const struct hostile *cases, size_t n, struct vcpu_hvm_context (*valid)(void))
{
    for (size_t i = 0; i < n; i++) {
        struct vcpu_hvm_context in = valid();
        struct vcpu_context c;

        cases[i].change(&in);
        if (vcpu_context_from_hvm(&c, &in, CR4_VALID) != -EINVAL)
            fail_msg("accepted: %s", cases[i].what);
    }
}

static void test_hostile_32bit_contexts(void **state)
{
    static const struct hostile cases[] = {
        { "mode 2", bad_mode },
        { "real mode (CR0.PE clear)", real_mode },
        { "CR0.PG without PE", paging_without_pe },
        { "CR0.NW without CD", nw_without_cd },
        { "a reserved CR0 bit", unknown_cr0_bit },
        { "CR4.VMXE", cr4_vmxe },
        { "a CR4 bit the vCPU's features do not allow", cr4_not_offered },
        { "CR4.PCIDE outside long mode", pcid_outside_long_mode },
        { "EFER.SVME", efer_svme },
        { "long mode without CR4.PAE", long_mode_without_pae },
        { "EFLAGS bit 3", eflags_reserved },
        { "EFLAGS bit 22", eflags_high },
        { "virtual-8086 mode", eflags_v8086 },
        { "CS is a data segment", cs_is_data },
        { "CS in ring 3", cs_ring3 },
        { "CS.L in a 32-bit context", cs_64bit_in_32b },
        { "CS not present", cs_not_present },
        { "CS a system segment", cs_system },
        { "CS attribute bits 12-15", cs_pad_bits },
        { "CS limit without 4K granularity's low bits", cs_limit_vs_g },
        { "CS limit over 1 MiB without G", cs_big_limit_no_g },
        { "SS is code", ss_is_code },
        { "SS read-only", ss_read_only },
        { "DS execute-only code", ds_execute_only },
        { "TR an available TSS", tr_not_busy },
        { "TR a data segment", tr_data },
    };
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]), flat32);
}

static void test_hostile_64bit_contexts(void **state)
{
    static const struct hostile cases[] = {
        { "mode 2", bad_mode },
        { "RIP not canonical", rip_not_canonical },
        { "EFER.LME clear", long_without_lme },
        { "paging off", long_without_paging },
        { "CR4.PAE clear", long_without_pae },
        { "CR0 bit 32", long_cr0_high },
        { "RFLAGS bit 40", long_rflags_high },
    };
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]), long64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pvh_entry),
        cmocka_unit_test(test_startup_ipi),
        cmocka_unit_test(test_64bit_context),
        cmocka_unit_test(test_32bit_context),
        cmocka_unit_test(test_32bit_compatibility_mode),
        cmocka_unit_test(test_null_data_segments),
        cmocka_unit_test(test_hostile_32bit_contexts),
        cmocka_unit_test(test_hostile_64bit_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
