/* fake_ctl.c (host test double): the control hypercall and the bridge for wisp-agent-fake, from files in a directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "host.h"

/*
 * wisp-agent-fake is main.c, store.c and host.c linked with this file in
 * place of ctl.c and bridge.c, so tests/integration/test_agent_fake.py can
 * run the agent's whole flow on the host. WISP_AGENT_PRIVCMD names a
 * directory instead of the device:
 *   devices       one device a line: SPEC [PMEM_GPA] (SPEC as --print-nodes takes it)
 *   dead-<domid>  exists: that domain is gone
 *   calls         appended: "unpause <domid>", "destroy <domid>", "bridge <bridge> <ifname>"
 * There is no domain table: --list fails with ENOSYS; --destroy makes dead-<domid>.
 * There is no host channel (ENODEV), so the agent serves no requests; the
 * calls only it makes fail with ENOSYS.
 */
static char dir[256];

static void record(const char *line)
{
    char path[300];
    int fd;

    snprintf(path, sizeof(path), "%s/calls", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        (void)!write(fd, line, strlen(line));
        close(fd);
    }
}

int ctl_open(const char *privcmd)
{
    snprintf(dir, sizeof(dir), "%s", privcmd);
    return access(dir, R_OK) == 0 ? 3 : -ENOENT;
}

int ctl_device_list(int fd, struct wisp_ctl_device *devs, unsigned int max, unsigned int *n)
{
    char path[300], line[256];
    FILE *f;

    (void)fd;
    snprintf(path, sizeof(path), "%s/devices", dir);
    f = fopen(path, "r");
    if (!f)
        return -ENOENT;
    *n = 0;
    while (*n < max && fgets(line, sizeof(line), f)) {
        char spec[200];
        unsigned long long gpa = 0;

        if (sscanf(line, "%199s %llx", spec, &gpa) < 1)
            continue;
        memset(&devs[*n], 0, sizeof(devs[*n]));
        if (devnodes_parse_spec(spec, &devs[*n]))
            devs[*n].kind = 0xee;   /* a malformed entry, as a broken hypervisor might give */
        devs[*n].pmem_gpa = gpa;
        (*n)++;
    }
    fclose(f);
    return 0;
}

int ctl_unpause(int fd, uint16_t domid)
{
    char line[32];

    (void)fd;
    snprintf(line, sizeof(line), "unpause %u\n", domid);
    record(line);
    return 0;
}

int ctl_domain_gone(int fd, uint16_t domid)
{
    return !ctl_domain_alive(fd, domid);
}

int ctl_domain_alive(int fd, uint16_t domid)
{
    char path[300];

    (void)fd;
    snprintf(path, sizeof(path), "%s/dead-%u", dir, domid);
    return access(path, F_OK) != 0;
}

int ctl_domain_list(int fd, uint16_t first, struct wisp_domain_info *infos, unsigned int max,
                    unsigned int *n)
{
    (void)fd, (void)first, (void)infos, (void)max;
    *n = 0;
    return -ENOSYS;
}

int ctl_free_frames(int fd, uint32_t *frames)
{
    (void)fd;
    *frames = 0;
    return -ENOSYS;
}

int ctl_destroy(int fd, uint16_t domid)
{
    char path[300], line[32];
    int made;

    (void)fd;
    snprintf(path, sizeof(path), "%s/dead-%u", dir, domid);
    made = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (made < 0)
        return -ESRCH;
    close(made);
    snprintf(line, sizeof(line), "destroy %u\n", domid);
    record(line);
    return 0;
}

int host_bridge_add(const char *bridge, const char *ifname)
{
    char line[96];

    snprintf(line, sizeof(line), "bridge %s %s\n", bridge, ifname);
    record(line);
    return 0;
}

int ctl_pause(int fd, uint16_t domid)
{
    (void)fd, (void)domid;
    return -ENOSYS;
}

int ctl_sched_get(int fd, uint16_t domid, uint32_t *weight, uint32_t *cap)
{
    (void)fd, (void)domid;
    *weight = *cap = 0;
    return -ENOSYS;
}

int ctl_sched_set(int fd, uint16_t domid, uint32_t weight, uint32_t cap)
{
    (void)fd, (void)domid, (void)weight, (void)cap;
    return -ENOSYS;
}

int ctl_domain_usage(int fd, uint16_t domid, struct domain_usage *u)
{
    (void)fd, (void)domid;
    *u = (struct domain_usage){ 0 };
    return -ENOSYS;
}

long ctl_host_read(int fd, void *buf, uint32_t bytes)
{
    (void)fd, (void)buf, (void)bytes;
    return -ENODEV;
}

long ctl_host_write(int fd, const void *buf, uint32_t bytes)
{
    (void)fd, (void)buf, (void)bytes;
    return -ENODEV;
}

long ctl_call(int fd, unsigned int cmd, void *arg)
{
    (void)fd, (void)cmd, (void)arg;
    return -ENOSYS;
}

long ctl_console_input(int fd, uint16_t domid, const void *buf, uint32_t bytes)
{
    (void)fd, (void)domid, (void)buf, (void)bytes;
    return -ENOSYS;
}

/* No loop devices on the test host: run-time disks are for the real agent only. */
int host_loop_attach(const char *image, bool readonly, struct pmem_disk *out, int *loop_fd)
{
    (void)image, (void)readonly, (void)out, (void)loop_fd;
    return -ENOSYS;
}
