/* ctl.c (service-domain tool): Wisp's control hypercall (55) from Linux userspace, through /dev/xen/privcmd. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

/*
 * Linux's include/uapi/xen/privcmd.h: the ioctl runs hypercall `op` with up
 * to five arguments and returns what it returns (a negative value comes back
 * as -1 with errno set). Arguments that are pointers are this process's
 * virtual addresses: the hypervisor reads them through the guest's page
 * tables, so main() locks all memory (mlockall) before the first call.
 */
struct privcmd_hypercall {
    uint64_t op;
    uint64_t arg[5];
};
#define IOCTL_PRIVCMD_HYPERCALL _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

int ctl_open(const char *privcmd)
{
    int fd = open(privcmd, O_RDWR | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

/* The command's own answer (host_read and _write: bytes moved), or -errno. */
static long control_value(int fd, unsigned int cmd, const void *arg)
{
    struct privcmd_hypercall call = {
        .op = __HYPERVISOR_wisp_control,
        .arg = { cmd, (uint64_t)(uintptr_t)arg },
    };
    long ret = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &call);

    return ret < 0 ? -errno : ret;
}

static int control(int fd, unsigned int cmd, void *arg)
{
    long ret = control_value(fd, cmd, arg);

    return ret < 0 ? (int)ret : 0;
}

/* Batch after batch from index `first` (the hypervisor may write fewer than asked). */
int ctl_device_list(int fd, struct wisp_ctl_device *devs, unsigned int max, unsigned int *n)
{
    struct wisp_ctl_device_list list;
    int err;

    /* Written by us first: the hypervisor cannot fault a page in, so each must be present and writable. */
    memset(devs, 0, sizeof(*devs) * max);
    *n = 0;
    do {
        list = (struct wisp_ctl_device_list){ .first = *n, .max_entries = max - *n,
                                              .buffer = (uint64_t)(uintptr_t)(devs + *n) };
        err = control(fd, WISP_CTL_device_list, &list);
        if (err)
            return err;
        *n += list.nr_entries < max - *n ? list.nr_entries : max - *n;
    } while (list.nr_entries > 0 && *n < max && *n < list.nr_devices);
    return 0;
}

int ctl_unpause(int fd, uint16_t domid)
{
    struct wisp_ctl_domain d = { .domid = domid };

    return control(fd, WISP_CTL_unpause, &d);
}

int ctl_destroy(int fd, uint16_t domid)
{
    struct wisp_ctl_domain d = { .domid = domid };

    return control(fd, WISP_CTL_destroy, &d);
}

int ctl_domain_list(int fd, uint16_t first, struct wisp_domain_info *infos, unsigned int max,
                    unsigned int *n)
{
    struct wisp_ctl_domain_list list = { .first_domid = first, .max_entries = max,
                                         .buffer = (uint64_t)(uintptr_t)infos };
    int err;

    memset(infos, 0, sizeof(*infos) * max);   /* written by us first: present and writable */
    err = control(fd, WISP_CTL_domain_list, &list);
    *n = err ? 0 : (list.nr_entries < max ? list.nr_entries : max);
    return err;
}

int ctl_free_frames(int fd, uint32_t *frames)
{
    struct wisp_ctl_domain_list list = { .max_entries = 0 };   /* no entries: no buffer */
    int err = control(fd, WISP_CTL_domain_list, &list);

    *frames = err ? 0 : list.free_frames;
    return err;
}

/* domid's entry into *info: 1, 0 when it is gone, or a negative errno. */
static int domain_entry(int fd, uint16_t domid, struct wisp_domain_info *info)
{
    unsigned int n;
    int err = ctl_domain_list(fd, domid, info, 1, &n);

    return err ? err : n == 1 && info->domid == domid;
}

int ctl_domain_gone(int fd, uint16_t domid)
{
    static struct wisp_domain_info info;
    int found = domain_entry(fd, domid, &info);

    return found < 0 ? found : !found;
}

int ctl_domain_alive(int fd, uint16_t domid)
{
    static struct wisp_domain_info info;
    int found = domain_entry(fd, domid, &info);

    return found <= 0 ? found : info.state != WISP_DOMSTATE_DYING;
}

int ctl_pause(int fd, uint16_t domid)
{
    struct wisp_ctl_domain d = { .domid = domid };

    return control(fd, WISP_CTL_pause, &d);
}

int ctl_sched_get(int fd, uint16_t domid, uint32_t *weight, uint32_t *cap)
{
    struct wisp_ctl_sched s = { .domid = domid };
    int err = control(fd, WISP_CTL_sched_get, &s);

    *weight = s.weight;
    *cap = s.cap;
    return err;
}

int ctl_sched_set(int fd, uint16_t domid, uint32_t weight, uint32_t cap)
{
    struct wisp_ctl_sched s = { .domid = domid, .weight = weight, .cap = cap };

    return control(fd, WISP_CTL_sched_set, &s);
}

int ctl_domain_usage(int fd, uint16_t domid, struct domain_usage *u)
{
    static struct wisp_vcpu_stats vcpus[WISP_MAX_VCPUS_LISTED];
    struct wisp_ctl_domain_stats st = { .domid = domid, .max_vcpus = WISP_MAX_VCPUS_LISTED,
                                        .vcpus = (uint64_t)(uintptr_t)vcpus };
    int err;

    memset(vcpus, 0, sizeof(vcpus));    /* written by us first: present and writable */
    err = control(fd, WISP_CTL_domain_stats, &st);
    *u = (struct domain_usage){ .events = st.events_received };
    for (unsigned int i = 0; !err && i < st.nr_vcpus && i < WISP_MAX_VCPUS_LISTED; i++)
        u->running_ns += vcpus[i].running_ns;
    for (unsigned int i = 0; !err && i < st.nr_exit_reasons && i < WISP_STATS_EXITS; i++)
        u->exits += st.exits[i];
    return err;
}

long ctl_host_read(int fd, void *buf, uint32_t bytes)
{
    struct wisp_ctl_host_io io = { .buffer = (uint64_t)(uintptr_t)buf, .bytes = bytes };

    return control_value(fd, WISP_CTL_host_read, &io);
}

long ctl_host_write(int fd, const void *buf, uint32_t bytes)
{
    struct wisp_ctl_host_io io = { .buffer = (uint64_t)(uintptr_t)buf, .bytes = bytes };

    return control_value(fd, WISP_CTL_host_write, &io);
}

long ctl_call(int fd, unsigned int cmd, void *arg)
{
    return control_value(fd, cmd, arg);
}

long ctl_console_input(int fd, uint16_t domid, const void *buf, uint32_t bytes)
{
    struct wisp_ctl_console_input in = { .domid = domid, .bytes = bytes,
                                         .buffer = (uint64_t)(uintptr_t)buf };

    return control_value(fd, WISP_CTL_console_input, &in);
}
