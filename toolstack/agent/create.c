/* create.c (service-domain tool): wisp-agent makes domains at run time (`wisp create`): files sent over the host channel, then pvh_build_domain (docs/toolstack.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder.h"
#include "create.h"
#include "ctl.h"
#include "devices.h"
#include "inbox.h"
#include "log.h"
#include "sha256.h"
#include "xen/sched.h"

#define MAX_FILES     4
#define FILE_MAX      (64u << 20)       /* a kernel or an initrd */
#define FILES_MAX     (96u << 20)       /* all files together (the service domain has 256 MiB) */
#define MAX_CREATED   8
/* A domain restarted more often than this within RESTART_WINDOW_S is destroyed instead (a guest
 * that crashes at once would otherwise keep the agent building it for ever). */
#define MAX_RESTARTS      5
#define RESTART_WINDOW_S  60

enum { ACT_DESTROY, ACT_PRESERVE, ACT_RESTART };

/*
 * A file the host sent, named by its SHA-256: the bytes arrive in order, a chunk
 * a message, and are checked against the name when the last one is in. Kept
 * after a create, so the next create of the same kernel sends nothing (`have`).
 */
struct file {
    char name[SHA256_HEX_LEN + 1];
    uint8_t *data;
    size_t size, have;
    unsigned long used;         /* when a create last used it: the oldest goes first */
    bool mapped;                /* data maps a preloaded file (else it was malloc'd) */
};

/*
 * A domain made here: what it wants done when it ends (xl's on_poweroff,
 * on_reboot, on_crash), and for a restart the request it was made from.
 */
struct created {
    uint32_t domid;             /* 0: free slot */
    unsigned long build;        /* this build's number: a reused id's builds differ */
    uint8_t on[SHUTDOWN_watchdog + 1];
    bool restart;               /* destroyed to be built again once it has gone */
    unsigned restarts;          /* restarts since window_start (seconds, CLOCK_MONOTONIC) */
    uint64_t window_start;
    struct wire_msg request;    /* its strings are in request_text */
    char request_text[WIRE_LINE_MAX];
};

static struct file files[MAX_FILES];
static struct created created[MAX_CREATED];
static unsigned long uses, builds;

static struct file *file_named(const char *name)
{
    for (unsigned i = 0; i < MAX_FILES; i++)
        if (files[i].data && !strcmp(files[i].name, name))
            return &files[i];
    return NULL;
}

static size_t files_total(void)
{
    size_t total = 0;

    for (unsigned i = 0; i < MAX_FILES; i++)
        total += files[i].data ? files[i].size : 0;
    return total;
}

static void drop(struct file *f)
{
    if (f->mapped)
        munmap(f->data, f->size ? f->size : 1);
    else
        free(f->data);
    memset(f, 0, sizeof(*f));
}

/* A free slot, the least recently used file dropped for it if need be. */
static struct file *free_slot(void)
{
    struct file *oldest = &files[0];

    for (unsigned i = 0; i < MAX_FILES; i++) {
        if (!files[i].data)
            return &files[i];
        if (files[i].used < oldest->used)
            oldest = &files[i];
    }
    drop(oldest);
    return oldest;
}

/* Room for size more bytes: the least recently used files go until there is. */
static bool make_room(size_t size)
{
    while (files_total() + size > FILES_MAX) {
        struct file *oldest = NULL;

        for (unsigned i = 0; i < MAX_FILES; i++)
            if (files[i].data && (!oldest || files[i].used < oldest->used))
                oldest = &files[i];
        if (!oldest)
            return false;
        drop(oldest);
    }
    return true;
}

static bool is_digest(const char *name)
{
    if (!name || strlen(name) != SHA256_HEX_LEN)
        return false;
    for (; *name; name++)
        if (!((*name >= '0' && *name <= '9') || (*name >= 'a' && *name <= 'f')))
            return false;
    return true;
}

int create_have(const struct wire_msg *m)
{
    const char *name = wire_get(m, "file");
    struct file *f = is_digest(name) ? file_named(name) : NULL;
    uint64_t size;

    if (!is_digest(name) || wire_get_uint(m, "size", FILE_MAX, &size))
        return -EINVAL;
    return f && f->have == f->size && f->size == size ? 0 : -ENOENT;
}

/*
 * The file a chunk of size bytes at offset belongs to: offset 0 starts it
 * (again); every other chunk must come right after the last. NULL with *err.
 */
static struct file *chunk_file(const char *name, uint64_t size, uint64_t offset, int *err)
{
    struct file *f = file_named(name);

    if (offset == 0) {
        if (f)
            drop(f);
        f = free_slot();
        if (!make_room(size)) {
            *err = -EFBIG;
            return NULL;
        }
        if (!(f->data = malloc(size ? size : 1))) {
            *err = -ENOMEM;
            return NULL;
        }
        strcpy(f->name, name);
        f->size = size;
        f->have = 0;
    }
    *err = -EINVAL;             /* out of order, or another file's size */
    return f && offset == f->have && size == f->size ? f : NULL;
}

/* n more bytes are in: once the last is, the file must match its name. */
static int chunk_done(struct file *f, size_t n)
{
    f->have += n;
    if (f->have == f->size) {
        char digest[SHA256_HEX_LEN + 1];

        sha256_hex(f->data, f->size, digest);
        if (strcmp(digest, f->name)) {
            drop(f);            /* garbled on the way, or misnamed: not kept */
            return -EIO;
        }
        f->used = ++uses;
    }
    return 0;
}

int create_put(const struct wire_msg *m)
{
    const char *name = wire_get(m, "file"), *data = wire_get(m, "data");
    uint64_t size, offset;
    struct file *f;
    long n;
    int err;

    if (!is_digest(name) || !data || wire_get_uint(m, "size", FILE_MAX, &size) ||
        wire_get_uint(m, "offset", size, &offset))
        return -EINVAL;
    if (!(f = chunk_file(name, size, offset, &err)))
        return err;
    n = wire_b64_decode(data, f->data + f->have, f->size - f->have);
    return n < 0 ? -EINVAL : chunk_done(f, (size_t)n);
}

/* As put, but the chunk's length bytes wait in the inbox (the host wrote them there). */
int create_take(const struct wire_msg *m)
{
    const char *name = wire_get(m, "file");
    uint64_t size, offset, length;
    struct file *f;
    int err;

    if (!is_digest(name) || wire_get_uint(m, "size", FILE_MAX, &size) ||
        wire_get_uint(m, "offset", size, &offset) ||
        wire_get_uint(m, "length", size - offset, &length) || (!length && size))
        return -EINVAL;
    if (!(f = chunk_file(name, size, offset, &err)))
        return err;
    if ((err = inbox_read(f->data + f->have, length))) {
        drop(f);
        return err;
    }
    if (!(err = chunk_done(f, length)) && f->have == f->size)
        say("file %.12s... (%zu bytes) taken from the inbox", f->name, f->size);
    return err;
}

/* dir/name, a preloaded file, into the cache as it is (mapped, not copied); false if not. */
static bool preload_one(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    struct file *f;
    void *data;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX ||
        file_named(name) || !make_room((size_t)st.st_size)) {
        close(fd);
        return false;
    }
    data = mmap(NULL, st.st_size ? (size_t)st.st_size : 1, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED)
        return false;
    f = free_slot();
    *f = (struct file){ .data = data, .size = (size_t)st.st_size, .have = (size_t)st.st_size,
                        .used = ++uses, .mapped = true };
    strcpy(f->name, name);
    return true;
}

void create_preload(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    if (!d)
        return;                 /* nothing was preloaded */
    while ((e = readdir(d)))
        if (is_digest(e->d_name)) {
            if (preload_one(dir, e->d_name))
                n++;
            else
                say("%s/%s: not taken into the file cache", dir, e->d_name);
        }
    closedir(d);
    say("%u preloaded files in the file cache", n);
}

static int action_of(const struct wire_msg *m, const char *key)
{
    const char *v = wire_get(m, key);

    if (!v || !strcmp(v, "destroy"))
        return ACT_DESTROY;
    if (!strcmp(v, "restart"))
        return ACT_RESTART;
    return !strcmp(v, "preserve") ? ACT_PRESERVE : -1;
}

static long control_call(void *ctx, unsigned cmd, void *arg)
{
    return ctl_call(*(int *)ctx, cmd, arg);
}

static long build(int privcmd, const struct wire_msg *m, const char **why)
{
    static int fd;
    const struct pvh_control control = { &fd, control_call };
    const char *kernel = wire_get(m, "kernel"), *ramdisk = wire_get(m, "ramdisk");
    struct pvh_build_request r = { .name = wire_get(m, "name"), .cmdline = wire_get(m, "cmdline") };
    uint64_t mib, vcpus, weight = 0, cap = 0, cpus = 0;
    struct file *k = kernel ? file_named(kernel) : NULL, *rd = ramdisk ? file_named(ramdisk) : NULL;

    fd = privcmd;
    *why = "bad arguments";
    if (!r.name || wire_get_uint(m, "memory", 65536, &mib) || wire_get_uint(m, "vcpus", 8, &vcpus) ||
        wire_get_uint(m, "weight", 65535, &weight) == -2 || wire_get_uint(m, "cap", 800, &cap) == -2 ||
        wire_get_uint(m, "cpus", UINT32_MAX, &cpus) == -2)
        return -EINVAL;
    *why = "the kernel or ramdisk was not put in whole";
    if (!k || k->have != k->size || (ramdisk && (!rd || rd->have != rd->size)))
        return -ENOENT;
    k->used = ++uses;
    if (rd)
        rd->used = uses;
    r.memory_mib = (uint32_t)mib;
    r.vcpus = (uint32_t)vcpus;
    r.weight = (uint32_t)weight;
    r.cap = (uint32_t)cap;
    r.cpus = cpus;
    r.kernel = k->data;
    r.kernel_size = k->size;
    if (rd) {
        r.initrd = rd->data;
        r.initrd_size = rd->size;
    }
    return pvh_build_domain(&control, &r, why);
}

/* The record for domid: an older domain's with the same id (ids are reused), else a free one. */
static struct created *slot_for(uint32_t domid)
{
    struct created *free_one = NULL;

    for (unsigned i = 0; i < MAX_CREATED; i++) {
        if (created[i].domid == domid)
            return &created[i];
        if (!created[i].domid && !free_one)
            free_one = &created[i];
    }
    return free_one;
}

static uint64_t now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec;
}

/* domid was made from m; restarts and window_start carry a restarted domain's count over. */
static void remember(uint32_t domid, const struct wire_msg *m, unsigned restarts,
                     uint64_t window_start)
{
    struct created *c = slot_for(domid);

    if (!c)
        return;         /* no record: when it ends, it is destroyed (the default) */
    *c = (struct created){ .domid = domid, .build = ++builds, .restarts = restarts,
                           .window_start = window_start };
    memset(c->on, ACT_DESTROY, sizeof(c->on));
    c->on[SHUTDOWN_poweroff] = (uint8_t)action_of(m, "on_poweroff");
    c->on[SHUTDOWN_reboot] = (uint8_t)action_of(m, "on_reboot");
    c->on[SHUTDOWN_crash] = (uint8_t)action_of(m, "on_crash");
    if (wire_copy(&c->request, c->request_text, sizeof(c->request_text), m))
        for (unsigned i = 0; i < sizeof(c->on); i++)
            if (c->on[i] == ACT_RESTART)
                c->on[i] = ACT_DESTROY;     /* cannot happen: a parsed line always fits */
}

/* A spec's backend before devices_add puts the agent's own id there (the spec wants one). */
#define SPEC_BACKEND (DOMID_FIRST_RESERVED - 1)

/* diskN = "VDEV:rw|ro:SHA256" (a file put before); true if there is such a key. */
static bool disk_of(const struct wire_msg *m, unsigned i, uint16_t domid, uint16_t carried_from,
                    struct runtime_device *rd, const char **why, int *err)
{
    char key[16], spec[160];
    const char *v, *digest;
    struct file *f;

    snprintf(key, sizeof(key), "disk%u", i);
    if (!(v = wire_get(m, key)))
        return false;
    digest = strrchr(v, ':');
    f = digest && is_digest(digest + 1) ? file_named(digest + 1) : NULL;
    if (f && f->have != f->size)
        f = NULL;
    /* A restart's disk is the old domain's kept copy: the image need not be cached still. */
    *err = -ENOENT, *why = "a disk's image was not put in whole";
    if (!digest || (!f && carried_from == DOMID_INVALID))
        return true;
    /* "xvdX:rw" is the longest prefix: anything longer (another ':') is refused, not cut. */
    *err = -EINVAL, *why = "a malformed disk (vdev xvda..xvdz, rw or ro)";
    if (digest - v > 7)
        return true;
    snprintf(spec, sizeof(spec), "disk:%u:%u:%.*s:image", domid, SPEC_BACKEND,
             (int)(digest - v), v);
    if (devnodes_parse_spec(spec, &rd->d))
        return true;
    rd->image = f ? f->data : NULL;
    rd->image_bytes = f ? f->size : 0;
    rd->carried_from = carried_from;
    if (f)
        f->used = ++uses;
    *err = 0;
    return true;
}

/* vifN = "" (the default MAC) or "XX:XX:XX:XX:XX:XX"; true if there is such a key. */
static bool vif_of(const struct wire_msg *m, unsigned i, uint16_t domid, unsigned handle,
                   struct runtime_device *rd, const char **why, int *err)
{
    char key[16], spec[96];
    const char *v;

    snprintf(key, sizeof(key), "vif%u", i);
    if (!(v = wire_get(m, key)))
        return false;
    snprintf(spec, sizeof(spec), "vif:%u:%u:%u%s%.17s", domid, SPEC_BACKEND, handle,
             *v ? ":" : "", v);
    *rd = (struct runtime_device){ 0 };
    *err = devnodes_parse_spec(spec, &rd->d) ? -EINVAL : 0;
    *why = "a malformed vif (mac = a unicast XX:XX:XX:XX:XX:XX)";
    return true;
}

/*
 * The disks and vifs the request asks for, as devices of domid (its disks those
 * of carried_from, which it restarts, if not DOMID_INVALID); how many, or a
 * negative errno.
 */
static int devices_of(const struct wire_msg *m, uint16_t domid, uint16_t carried_from,
                      struct runtime_device *rds, const char **why)
{
    unsigned n = 0, vifs = 0;
    int err = 0;

    for (unsigned i = 0; i < MAX_RUNTIME_DEVICES && !err; i++) {
        if (n < MAX_RUNTIME_DEVICES && disk_of(m, i, domid, carried_from, &rds[n], why, &err) &&
            !err) {
            for (unsigned j = 0; j < n; j++)
                if (rds[j].d.kind == WISP_DEV_DISK && rds[j].d.devid == rds[n].d.devid)
                    err = -EINVAL, *why = "two disks with one vdev";
            n++;
        }
        if (!err && n < MAX_RUNTIME_DEVICES && vif_of(m, i, domid, vifs, &rds[n], why, &err) &&
            !err)
            n++, vifs++;
    }
    return err ? err : (int)n;
}

/* Whether the file a request names by digest is here whole (no name, or a malformed one,
 * is left for the build to refuse). */
static bool complete(const char *digest)
{
    struct file *f;

    if (!digest || !is_digest(digest))
        return true;
    f = file_named(digest);
    return f && f->have == f->size;
}

/* Every file m names is here: kernel, ramdisk and each diskN ("VDEV:rw|ro:SHA256"). */
static bool files_complete(const struct wire_msg *m)
{
    char key[16];
    const char *v, *digest;

    if (!complete(wire_get(m, "kernel")) || !complete(wire_get(m, "ramdisk")))
        return false;
    for (unsigned i = 0; i < MAX_RUNTIME_DEVICES; i++) {
        snprintf(key, sizeof(key), "disk%u", i);
        if ((v = wire_get(m, key)) && (digest = strrchr(v, ':')) && !complete(digest + 1))
            return false;
    }
    return true;
}

/* Builds, equips and unpauses the domain m asks for; its id, or a negative errno with *why. */
static long make_domain(int privcmd, const struct wire_msg *m, uint16_t carried_from,
                        const char **why)
{
    static struct runtime_device rds[MAX_RUNTIME_DEVICES];
    long id;
    int err, n;

    if (action_of(m, "on_poweroff") < 0 || action_of(m, "on_reboot") < 0 ||
        action_of(m, "on_crash") < 0) {
        *why = "on_poweroff, on_reboot and on_crash: destroy, restart or preserve";
        return -EINVAL;
    }
    if (carried_from == DOMID_INVALID && !files_complete(m)) {
        *why = "the kernel, ramdisk or a disk image was not put in whole";
        return -ENOENT;         /* before any build: the host puts them and asks again */
    }
    id = build(privcmd, m, why);
    if (id < 0)
        return id;
    n = devices_of(m, (uint16_t)id, carried_from, rds, why);
    err = n < 0 ? n : devices_add((uint16_t)id, rds, (unsigned)n, why);
    if (err) {
        (void)ctl_destroy(privcmd, (uint16_t)id);
        return err;
    }
    say("d%ld (%s): built from the host's files, %d device%s; unpausing it", id,
        wire_get(m, "name"), n, n == 1 ? "" : "s");
    if ((err = ctl_unpause(privcmd, (uint16_t)id))) {
        *why = "unpause";
        (void)ctl_destroy(privcmd, (uint16_t)id);
        return err;
    }
    return id;
}

static void finish_restart(int privcmd, struct created *c);

/*
 * Restarts whose old domain has gone since the agent last looked: done now,
 * before a create could take the old id (and the record with it).
 */
static void finish_gone_restarts(int privcmd)
{
    for (unsigned i = 0; i < MAX_CREATED; i++)
        if (created[i].domid && created[i].restart &&
            ctl_domain_gone(privcmd, (uint16_t)created[i].domid) == 1)
            finish_restart(privcmd, &created[i]);
}

long create_domain(int privcmd, const struct wire_msg *m, const char **why)
{
    long id;

    finish_gone_restarts(privcmd);
    id = make_domain(privcmd, m, DOMID_INVALID, why);

    if (id >= 0)
        remember((uint32_t)id, m, 0, now_s());
    return id;
}

/* Ends c's domain (shut down, its on_* says restart) so that it is built again once gone. */
static void begin_restart(int privcmd, struct created *c)
{
    uint64_t now = now_s();

    if (now - c->window_start >= RESTART_WINDOW_S) {
        c->window_start = now;
        c->restarts = 0;
    }
    if (c->restarts >= MAX_RESTARTS) {
        say("d%u has shut down: restarted %u times within %u s, so destroyed instead", c->domid,
            c->restarts, RESTART_WINDOW_S);
    } else {
        say("d%u has shut down: destroying it to build it again (its on_* says restart)",
            c->domid);
        c->restart = true;
        devices_carry_disks((uint16_t)c->domid);
    }
    (void)ctl_destroy(privcmd, (uint16_t)c->domid);
}

/* c's domain, destroyed for a restart, has gone: its successor from the same request. */
static void finish_restart(int privcmd, struct created *c)
{
    static struct wire_msg m;
    static char text[WIRE_LINE_MAX];
    uint16_t old = (uint16_t)c->domid;
    unsigned restarts = c->restarts + 1;
    uint64_t window_start = c->window_start;
    const char *why = "";
    long id;

    (void)wire_copy(&m, text, sizeof(text), &c->request);  /* c's slot may be the new one's */
    c->domid = 0;
    devices_remove(old);        /* its kept disks wait for the new domain */
    id = make_domain(privcmd, &m, old, &why);
    if (id < 0) {
        say("d%u (%s): restart failed: %s: %s", old, wire_get(&m, "name"), why,
            strerror((int)-id));
        devices_drop_carried(old);
        return;
    }
    remember((uint32_t)id, &m, restarts, window_start);
    say("d%u (%s) restarted as d%ld", old, wire_get(&m, "name"), id);
}

void create_on_shutdown(int privcmd, const struct wisp_domain_info *d)
{
    for (unsigned i = 0; i < MAX_CREATED; i++) {
        if (created[i].domid != d->domid)
            continue;
        int act = d->shutdown_reason <= SHUTDOWN_watchdog ? created[i].on[d->shutdown_reason]
                                                           : ACT_DESTROY;
        if (act == ACT_DESTROY) {
            say("d%u has shut down: destroying it (its on_* says destroy)", d->domid);
            (void)ctl_destroy(privcmd, (uint16_t)d->domid);
        } else if (act == ACT_RESTART && !created[i].restart) {
            begin_restart(privcmd, &created[i]);
        }
        return;
    }
}

void create_forget(int privcmd, uint32_t domid)
{
    for (unsigned i = 0; i < MAX_CREATED; i++) {
        if (created[i].domid != domid)
            continue;
        if (created[i].restart)
            finish_restart(privcmd, &created[i]);
        else
            created[i].domid = 0;
        return;                 /* one record an id: the restarted one may hold it again */
    }
}

unsigned long create_build_of(uint32_t domid)
{
    for (unsigned i = 0; i < MAX_CREATED; i++)
        if (created[i].domid == domid)
            return created[i].build;
    return 0;
}
