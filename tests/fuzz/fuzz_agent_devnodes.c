/* fuzz_agent_devnodes.c (host fuzzer): wisp-agent's node table from arbitrary device-list entries and --print-nodes specs. */
#include "fuzz.h"
#include "../../toolstack/agent/devnodes.c"   /* one translation unit: see tests/fuzz/meson.build */

static bool nul_within(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Every node is a bounded, absolute path under the device's own two directories. */
static void check_list(const struct wisp_ctl_device *d, const struct devnode_list *l)
{
    char fpath[DEVNODE_PATH_MAX], bpath[DEVNODE_PATH_MAX];

    devnodes_frontend_path(d, fpath, sizeof(fpath));
    devnodes_backend_path(d, bpath, sizeof(bpath));
    FUZZ_CHECK(l->n <= DEVNODES_MAX);
    for (unsigned int i = 0; i < l->n; i++) {
        const struct devnode *n = &l->node[i];
        FUZZ_CHECK(nul_within(n->path, sizeof(n->path)) && nul_within(n->value, sizeof(n->value)));
        FUZZ_CHECK(strncmp(n->path, fpath, strlen(fpath)) == 0 ||
                   strncmp(n->path, bpath, strlen(bpath)) == 0);
        FUZZ_CHECK((n->owner == d->frontend && n->reader == d->backend) ||
                   (n->owner == d->backend && n->reader == d->frontend));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct devnode_list l;
    struct fuzz_in in = { data, size, 0 };
    struct wisp_ctl_device devs[2];
    char conf[4096], spec[160];

    /* Entries as the hypervisor's list might hold them: any bytes at all. */
    fuzz_bytes(&in, devs, sizeof(devs));
    for (int i = 0; i < 2; i++) {
        bool ok = devnodes_check(&devs[i]) == 0;
        l.n = 0;
        FUZZ_CHECK((devnodes_setup(&devs[i], &l) == 0) == ok);
        if (ok) {
            check_list(&devs[i], &l);
            l.n = 0;
            int err = devs[i].kind == WISP_DEV_DISK ? devnodes_vbd_hotplug(&devs[i], 259, 0, "/dev/pmem0", &l)
                                                    : devnodes_vif_hotplug(&devs[i], &l);
            FUZZ_CHECK(err == 0);
            check_list(&devs[i], &l);
        }
    }
    int len = devnodes_dhcp_conf(devs, 2, conf, sizeof(conf));
    FUZZ_CHECK(len == -XEN_E2BIG || (len > 0 && (size_t)len == strlen(conf)));

    /* The rest as a --print-nodes spec: whatever it parses to passes the checks. */
    fuzz_bytes(&in, spec, sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = '\0';
    struct wisp_ctl_device d;
    if (devnodes_parse_spec(spec, &d) == 0)
        FUZZ_CHECK(devnodes_check(&d) == 0);
    return 0;
}
