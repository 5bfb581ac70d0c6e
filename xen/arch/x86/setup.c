/* setup.c (hypervisor): the C entry point: from the boot loader's hand-over to scheduling guests. */
#include "env.h"
#include "acpi_cpus.h"
#include "apic.h"
#include "time.h"
#include "bootconfig.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "cpu.h"
#include "domain.h"
#include "domain_build.h"
#include "devices.h"
#include "fpu.h"
#include "hvm.h"
#include "mm.h"
#include "percpu.h"
#include "printk.h"
#include "mce.h"
#include "spec_ctrl.h"
#include "sched.h"
#include "smpboot.h"
#include "host_channel.h"
#include "uart.h"
#include "version.h"
#include "x86.h"

extern char _image_start[], _image_end[];

static struct boot_info boot_info;
static struct boot_config boot_config;

/* Hypervisor command-line options (docs/boot-config.md lists them). */
static char opt_loglevel[16] = "info";
static char opt_config[64] = "wisp.cfg";
static uint64_t opt_maxcpus;            /* 0: every CPU the firmware lists, up to MAX_PCPUS */

static const struct option_desc options[] = {
    { "loglevel", OPT_STRING, opt_loglevel, sizeof(opt_loglevel),
      "error, warn, info or debug" },
    { "config", OPT_STRING, opt_config, sizeof(opt_config),
      "name of the module holding the boot configuration" },
    { "maxcpus", OPT_UINT, &opt_maxcpus, 0,
      "start at most this many CPUs, the boot CPU included (0: all, up to 8)" },
    { "spread_vcpus", OPT_BOOL, &spread_vcpus, 0,
      "start each domain's vCPUs on different pCPUs (experimental: docs/smp.md)" },
    { "host_channel", OPT_BOOL, &host_channel_wanted, 0,
      "COM2 carries the host channel to the control domains (docs/host-channel.md)" },
    { "irqoff_warn", OPT_UINT, &irqoff_warn_s, 0,
      "seconds a vCPU may run with interrupts off before its state is logged (0: never)" },
};

static const void *boot_phys(uint64_t addr, uint64_t len, void *ctx)
{
    if (addr + len < addr || addr + len > HOST_MAPPED_LIMIT)
        return NULL;
    return phys_to_virt(addr);
}

static void report_option(const char *word, size_t len, const char *why, void *ctx)
{
    log_warn("command line: '%.*s': %s", (int)len, word, why);
}

/*
 * Multiboot v1 loaders (QEMU's, GRUB's "multiboot") put the image path first on
 * the command line; GRUB's multiboot2 gives only the arguments.
 */
static const char *options_text(uint32_t magic)
{
    const char *s = boot_info.cmdline;

    if (magic != MB1_BOOTLOADER_MAGIC)
        return s;
    while (*s == ' ')
        s++;
    while (*s && *s != ' ')
        s++;
    return s;
}

static void apply_options(uint32_t magic)
{
    static const char *const levels[] = { "error", "warn", "info", "debug" };

    cmdline_parse(options_text(magic), options, sizeof(options) / sizeof(options[0]),
                  report_option, NULL);
    for (unsigned i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (!strcmp(opt_loglevel, levels[i]))
            log_threshold = (enum log_level)i;
}

static void parse_boot_info(uint32_t magic, uint32_t info)
{
    const char *err = "unknown boot loader magic";
    int rc = -1;

    if (magic == MB2_BOOTLOADER_MAGIC)
        rc = mb2_parse(info, boot_phys, NULL, &boot_info, &err);
    else if (magic == MB1_BOOTLOADER_MAGIC)
        rc = mb1_parse(info, boot_phys, NULL, &boot_info, &err);
    if (rc)
        panic("cannot read the boot information (magic 0x%x): %s", magic, err);
}

static void log_boot_info(void)
{
    log_info("loader: %s; command line: %s", boot_info.loader[0] ? boot_info.loader : "(unnamed)",
             boot_info.cmdline);
    for (unsigned i = 0; i < boot_info.nr_mem; i++)
        log_debug("memory %016lx-%016lx type %u", boot_info.mem[i].base,
                  boot_info.mem[i].base + boot_info.mem[i].size, boot_info.mem[i].type);
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        log_info("module %s: %lu bytes at 0x%lx", boot_info.modules[i].name,
                 boot_info.modules[i].end - boot_info.modules[i].start,
                 boot_info.modules[i].start);
}

static void init_frames(void)
{
    uint64_t in_use[1 + BOOT_MAX_MODULES][2];
    unsigned n = 0;

    in_use[n][0] = (uintptr_t)_image_start;
    in_use[n++][1] = (uintptr_t)_image_end;
    for (unsigned i = 0; i < boot_info.nr_modules; i++) {
        in_use[n][0] = boot_info.modules[i].start;
        in_use[n++][1] = boot_info.modules[i].end;
    }
    frames_init(&boot_info, in_use, n);
    log_info("%lu MiB of memory free for guests", frames_free_bytes() >> 20);
}

static void read_boot_config(void)
{
    const struct boot_module *m = boot_find_module(&boot_info, opt_config);
    char err[128];

    if (!m)
        panic("no boot configuration: no module named '%s'", opt_config);
    if (bootconfig_parse(phys_to_virt(m->start), m->end - m->start, &boot_config, err, sizeof(err)))
        panic("boot configuration '%s': %s", opt_config, err);
}

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

/* The machine's CPUs as its firmware lists them; none if it lists none. */
static void find_cpus(struct acpi_cpus *cpus)
{
    const char *err = NULL;

    if (acpi_find_cpus(boot_phys, NULL, boot_info.rsdp, boot_info.rsdp_len, cpus, &err)) {
        log_warn("CPUs: %s: using the boot CPU only", err);
        cpus->nr = cpus->listed = 0;
    }
}

/*
 * The machine as firmware left it: caches may be off and the legacy PIC may
 * deliver IRQ0. Wisp uses neither the PIC nor uncached memory.
 */
static void host_cpu_init(void)
{
    cpu_caches_on();
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void start_wisp(uint32_t magic, uint32_t info)
{
    struct acpi_cpus cpus;

    percpu_init(0);                 /* first: the console lock names CPUs by it */
    uart_init();
    serial_write("\n", 1);
    log_info("Wisp %s: a small hypervisor for Xen PVH guests", WISP_VERSION_STRING);
    cpu_tables_init();
    host_cpu_init();
    host_pt_protect();              /* before the other CPUs start: they share the tables */
    cpu_write_protect_on();
    parse_boot_info(magic, info);
    apply_options(magic);
    log_boot_info();
    find_cpus(&cpus);
    init_frames();

    mce_init();
    spec_ctrl_init();
    if (!hvm_select())
        panic("no usable hardware virtualization (AMD SVM with NPT, or Intel VMX with EPT)");
    if (hvm->cpu_enable())
        panic("cannot enable %s on this CPU", hvm->name);
    log_info("virtualization: %s", hvm->name);

    fpu_host_init();
    time_init();
    host_apic_init();
    smp_boot(&boot_info, &cpus, opt_maxcpus > MAX_PCPUS ? MAX_PCPUS : (unsigned)opt_maxcpus);
    host_channel_init();
    read_boot_config();
    /* Every domain's store port names the xenstore domain, so its id comes first. */
    for (unsigned i = 0; i < boot_config.nr_domains; i++)
        if (boot_config.domains[i].roles & WISP_ROLE_XENSTORE)
            domain_set_xenstore_id(i + 1);
    /* A guest with devices starts paused for them: without them it would wait forever. */
    if (devices_init(&boot_config, &boot_info))
        panic("boot configuration '%s': a disk's image is missing or unusable", opt_config);
    unsigned started = 0;
    for (unsigned i = 0; i < boot_config.nr_domains; i++) {
        if (domain_build(i + 1, &boot_config.domains[i], &boot_info))
            log_error("domain '%s' was not started", boot_config.domains[i].name);
        else
            started++;
    }
    if (!started)
        panic("no domain could be started");
    sched_run();
}
