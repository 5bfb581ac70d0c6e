/* start.c (guest): rt_start (C side of the entry), shutdown, panic and command-line lookup. */
#include "guest.h"
#include "xen/sched.h"

/* isa-debug-exit (QEMU -device isa-debug-exit,iobase=0xf4): only used without Xen, for debugging. */
#define QEMU_DEBUG_EXIT_PORT 0xf4

void rt_start(uint32_t si_paddr);

void rt_start(uint32_t si_paddr)
{
    int rc;

    trap_init();
    if (!xen_cpuid_base()) {
        con_printf("pvh-guest: no Xen CPUID leaves (not under Xen or Wisp): "
                   "console on port 0xE9, no hypercalls\n");
    } else if (hypercall_page_setup() < 0) {
        con_printf("pvh-guest: hypercall page setup failed, using direct hypercalls\n");
    }
    rc = main((const struct hvm_start_info *)(uintptr_t)si_paddr);
    guest_shutdown(rc == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

/* Without a working shutdown hypercall: HLT with interrupts off, or a triple fault. */
static __noreturn void stop_by_cpu(unsigned int reason)
{
    if (reason != SHUTDOWN_poweroff) {
        trap_load_empty_idt();
        __asm__ volatile("int3");
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

__noreturn void guest_shutdown(unsigned int reason)
{
    struct sched_shutdown arg = { .reason = reason };

    con_flush();
    if (xen_cpuid_base()) {
        long rc = hv_sched_op(SCHEDOP_shutdown, HV_PTR(&arg));

        con_printf("pvh-guest: SCHEDOP_shutdown(%u) returned %ld\n", reason, rc);
        con_flush();
    } else {
        /* QEMU exits with status (value << 1) | 1: 1 = poweroff, 3 = anything else. */
        outb(QEMU_DEBUG_EXIT_PORT, reason == SHUTDOWN_poweroff ? 0 : 1);
    }
    stop_by_cpu(reason);
}

__noreturn void guest_panic(const char *fmt, ...)
{
    va_list ap;

    con_flush();
    con_printf("PANIC: ");
    va_start(ap, fmt);
    con_vprintf(fmt, ap);
    va_end(ap);
    con_printf("\n");
    guest_shutdown(SHUTDOWN_crash);
}

/* Command lines are short; a longer one is treated as ending here. */
#define CMDLINE_MAX 4096

bool cmdline_get(const struct hvm_start_info *si, const char *key, char *out, size_t outlen)
{
    const char *p, *end;
    size_t keylen = strlen(key);

    if (!si || !si->cmdline_paddr || !outlen)
        return false;
    p = (const char *)(uintptr_t)si->cmdline_paddr;
    end = p + strnlen(p, CMDLINE_MAX);
    while (p < end) {
        const char *word = p;
        size_t len;

        while (p < end && *p != ' ')
            p++;
        len = (size_t)(p - word);
        if (len > keylen && !memcmp(word, key, keylen) && word[keylen] == '=') {
            size_t vlen = len - keylen - 1;

            if (vlen >= outlen)
                vlen = outlen - 1;
            memcpy(out, word + keylen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        while (p < end && *p == ' ')
            p++;
    }
    return false;
}
