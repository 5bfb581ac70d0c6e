/* fuzz_bootconfig.c (host fuzzer): the boot configuration parser on arbitrary text. */
#include "fuzz.h"
#include "../../xen/common/bootconfig.c"    /* one translation unit: see tests/fuzz/meson.build */

static bool bounded(const char *s, size_t max)
{
    return memchr(s, '\0', max) != NULL;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* What a parsed configuration promises its users (docs/boot-config.md). */
static void check_config(const struct boot_config *cfg)
{
    FUZZ_CHECK(cfg->nr_domains >= 1 && cfg->nr_domains <= BOOTCFG_MAX_DOMAINS);
    for (unsigned i = 0; i < cfg->nr_domains; i++) {
        const struct domain_config *d = &cfg->domains[i];

        FUZZ_CHECK(bounded(d->name, sizeof(d->name)) && d->name[0]);
        FUZZ_CHECK(bounded(d->kernel, sizeof(d->kernel)) && d->kernel[0]);
        FUZZ_CHECK(bounded(d->initrd, sizeof(d->initrd)));
        FUZZ_CHECK(bounded(d->cmdline, sizeof(d->cmdline)));
        FUZZ_CHECK(d->memory_mib >= BOOTCFG_MIN_MEMORY_MIB && d->memory_mib <= BOOTCFG_MAX_MEMORY_MIB);
        FUZZ_CHECK(d->vcpus >= 1 && d->vcpus <= BOOTCFG_MAX_VCPUS);
        FUZZ_CHECK((d->roles & ~(uint32_t)BOOTCFG_ROLES) == 0);
        FUZZ_CHECK(d->max_grant_frames >= 1 && d->max_grant_frames <= BOOTCFG_MAX_GRANT_FRAMES);
        FUZZ_CHECK(d->max_maptrack_frames <= BOOTCFG_MAX_MAPTRACK_FRAMES);
        FUZZ_CHECK(d->nr_disks <= BOOTCFG_MAX_DISKS && d->nr_vifs <= BOOTCFG_MAX_VIFS);
        FUZZ_CHECK(!(d->nr_disks + d->nr_vifs) || d->paused);
        for (unsigned k = 0; k < d->nr_disks; k++) {
            FUZZ_CHECK(bounded(d->disks[k].target, sizeof(d->disks[k].target)) &&
                       d->disks[k].target[0]);
            FUZZ_CHECK(strlen(d->disks[k].vdev) == 4 && d->disks[k].devid);
        }
        for (unsigned k = 0; k < d->nr_vifs; k++)
            FUZZ_CHECK(d->vifs[k].handle == k && !(d->vifs[k].mac[0] & 1));
        for (unsigned j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(cfg->domains[j].name, d->name) != 0);
            /* At most one xenstore domain. */
            FUZZ_CHECK(!(cfg->domains[j].roles & d->roles & WISP_ROLE_XENSTORE));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_config cfg;
    char err[128];
    char *text = fuzz_heap_copy(data, size);     /* no NUL after it: overreads trap */
    int rc;

    memset(&cfg, 0xA5, sizeof(cfg));
    memset(err, 'Z', sizeof(err));
    rc = bootconfig_parse(text, size, &cfg, err, sizeof(err));
    FUZZ_CHECK(bounded(err, sizeof(err)));
    if (rc == 0) {
        FUZZ_CHECK(err[0] == '\0');
        check_config(&cfg);
    } else {
        FUZZ_CHECK(rc < 0 && err[0] != '\0');
        FUZZ_CHECK(all_zero(&cfg, sizeof(cfg)));    /* no half-parsed result */
    }
    free(text);
    return 0;
}
