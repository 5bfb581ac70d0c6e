/* act.c (guest, act64): does one thing chosen by "act=<name>" on the command line, for the hypervisor's exit and crash tests. */
#include "guest.h"
#include "xen/sched.h"
#include "xen/vcpu.h"

/* Guest-physical address far outside any test guest's RAM (and outside the image). */
#define FAR_OUTSIDE_RAM 0xF0000000UL
#define BIGPRINT_LINES 10000

static void act_shutdown(unsigned int reason)
{
    guest_shutdown(reason);
}

/* No IDT: the CPU cannot deliver the exception, nor the #DF after it: triple fault. */
static void act_triple(void)
{
    trap_load_empty_idt();
    __asm__ volatile("int3");
}

static void act_ud(void)
{
    trap_load_empty_idt();
    __asm__ volatile("ud2");
}

/* The first 4 GiB are identity-mapped, so this store reaches guest-physical 0xF0000000. */
static void act_npf(void)
{
    *(volatile uint32_t *)FAR_OUTSIDE_RAM = 0xdeadbeef;
}

/* HLT with interrupts off on the last running vCPU: the hypervisor treats it as poweroff. */
static void act_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* VCPUOP_down on the only vCPU: as in Xen, the domain powers off. */
static void act_vcpu_down(void)
{
    (void)hv_vcpu_op(VCPUOP_down, 0, 0);
}

static void act_spin(void)
{
    for (;;)
        __asm__ volatile("pause");
}

static void act_bigprint(void)
{
    for (unsigned int i = 1; i <= BIGPRINT_LINES; i++)
        con_printf("bigprint line %05u of %u: the quick brown fox jumps over the lazy dog\n", i,
                   BIGPRINT_LINES);
    guest_shutdown(SHUTDOWN_poweroff);
}

struct act {
    const char *name;
    void (*run)(void);
};

static void act_poweroff(void) { act_shutdown(SHUTDOWN_poweroff); }
static void act_reboot(void) { act_shutdown(SHUTDOWN_reboot); }
static void act_crash(void) { act_shutdown(SHUTDOWN_crash); }

static const struct act acts[] = {
    { "poweroff", act_poweroff },
    { "reboot", act_reboot },
    { "crash", act_crash },
    { "triple", act_triple },
    { "npf", act_npf },
    { "halt", act_halt },
    { "spin", act_spin },
    { "ud", act_ud },
    { "bigprint", act_bigprint },
    { "vcpu-down", act_vcpu_down },
};

int main(const struct hvm_start_info *si)
{
    char name[32];

    if (!cmdline_get(si, "act", name, sizeof(name))) {
        con_printf("ACT missing: put act=<poweroff|reboot|crash|triple|npf|halt|spin|ud|bigprint|vcpu-down>"
                   " on the command line\n");
        return 1;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(acts); i++) {
        if (strcmp(acts[i].name, name))
            continue;
        con_printf("ACT %s\n", name);
        acts[i].run();
        /* Only npf can come back (a hypervisor that did not stop us). */
        con_printf("ACT %s returned: the hypervisor did not stop the guest\n", name);
        return 1;
    }
    con_printf("ACT unknown %s\n", name);
    return 1;
}
