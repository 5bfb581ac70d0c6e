/* create.c (host tool): `wisp create FILE`: a domain from an xl.cfg file, built by the service domain's agent (docs/toolstack.md). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "create.h"
#include "elf.h"
#include "exit_codes.h"
#include "file_digest.h"
#include "inbox.h"
#include "inbox_layout.h"
#include "wire.h"
#include "xlcfg.h"

#define CHUNK      2880             /* bytes a `put` carries: 3840 of base64, in one 4 KiB line */

static const char *action_name(enum xl_action a)
{
    return a == XL_PRESERVE ? "preserve" : a == XL_RESTART ? "restart" : "destroy";
}

/* Whether the agent has the file named by digest already (from an earlier create). */
static bool agent_has(struct client_conn *c, const char *digest, size_t size)
{
    char buf[WIRE_LINE_MAX];
    struct wire_out req;
    struct wire_msg reply;
    const char *status;

    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", "have");
    wire_add(&req, "file", digest);
    wire_addf(&req, "size", "%zu", size);
    return !client_exchange(c, &req, NULL, NULL, &reply, buf, sizeof(buf)) &&
           (status = wire_get(&reply, "status")) && !strcmp(status, "0");
}

/* A chunk of the file to the agent: written into the inbox and taken, or sent as a `put` line. */
static int send_chunk(struct client_conn *c, struct inbox *ib, const unsigned char *data,
                      size_t size, size_t offset, size_t n, const char *digest)
{
    static char text[CHUNK / 3 * 4 + 8];
    char buf[WIRE_LINE_MAX];
    struct wire_out req;
    struct wire_msg reply;
    int rc;

    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", ib ? "take" : "put");
    wire_add(&req, "file", digest);
    wire_addf(&req, "size", "%zu", size);
    wire_addf(&req, "offset", "%zu", offset);
    if (ib) {
        inbox_write(ib, data + offset, n);
        wire_addf(&req, "length", "%zu", n);
    } else {
        wire_b64_encode(data + offset, n, text);
        wire_add(&req, "data", text);
    }
    if ((rc = client_exchange(c, &req, NULL, NULL, &reply, buf, sizeof(buf))))
        return rc;
    return client_judge(ib ? "sending the files through the inbox" : "sending the files", &reply);
}

/*
 * The file to the agent, named by its SHA-256, unless the agent has it already:
 * through the inbox when there is one (16 MiB a chunk), else over the host
 * channel (CHUNK bytes a line), on one connection; 0 or an exit status.
 */
static int put_file(struct client_conn *c, struct inbox *ib, const unsigned char *data,
                    size_t size, const char *digest)
{
    size_t chunk = ib ? INBOX_DATA_BYTES : CHUNK, offset = 0;

    if (agent_has(c, digest, size))
        return 0;
    do {
        size_t n = size - offset < chunk ? size - offset : chunk;
        int rc = send_chunk(c, ib, data, size, offset, n, digest);

        if (rc)
            return rc;
        offset += n;
    } while (offset < size);
    return 0;
}

/* The files a create sends (if the agent lacks them): kernel, ramdisk, the disks' images. */
struct create_files {
    struct hashed_file kernel, ramdisk, disks[XLCFG_MAX_DISKS];
};

/*
 * The create request. With files_missing, an answer that the agent lacks a file
 * (ENOENT: nothing was built) sets it instead of failing, so the files can follow.
 */
static int send_create(struct client_conn *c, const struct xl_config *x,
                       const struct create_files *f, bool *files_missing)
{
    char buf[WIRE_LINE_MAX], what[64], key[16];
    struct wire_out req;
    struct wire_msg reply;
    const char *error;
    int rc;

    wire_begin(&req, "req");
    wire_add(&req, "id", "1");
    wire_add(&req, "op", "create");
    wire_add(&req, "name", x->name);
    wire_add(&req, "kernel", f->kernel.digest);
    if (f->ramdisk.data)
        wire_add(&req, "ramdisk", f->ramdisk.digest);
    wire_add(&req, "cmdline", x->cmdline);
    wire_addf(&req, "memory", "%u", x->memory_mib);
    wire_addf(&req, "vcpus", "%u", x->vcpus);
    wire_addf(&req, "weight", "%u", x->weight);
    wire_addf(&req, "cap", "%u", x->cap);
    wire_addf(&req, "cpus", "%u", x->cpus);
    wire_add(&req, "on_poweroff", action_name(x->on_poweroff));
    wire_add(&req, "on_reboot", action_name(x->on_reboot));
    wire_add(&req, "on_crash", action_name(x->on_crash));
    for (unsigned i = 0; i < x->nr_disks; i++) {
        snprintf(key, sizeof(key), "disk%u", i);
        wire_addf(&req, key, "%s:%s:%s", x->disks[i].vdev, x->disks[i].readonly ? "ro" : "rw",
                  f->disks[i].digest);
    }
    for (unsigned i = 0; i < x->nr_vifs; i++) {
        snprintf(key, sizeof(key), "vif%u", i);
        wire_add(&req, key, x->vifs[i].mac);
    }
    if ((rc = client_exchange(c, &req, NULL, NULL, &reply, buf, sizeof(buf))))
        return rc;
    if (files_missing && (error = wire_get(&reply, "error")) && !strcmp(error, "ENOENT")) {
        *files_missing = true;
        return 0;
    }
    snprintf(what, sizeof(what), "create %s", x->name);
    if ((rc = client_judge(what, &reply)))
        return rc;
    printf("%s\n", wire_get(&reply, "domid") ? wire_get(&reply, "domid") : "?");
    return 0;
}

/* Checked on the host first: a config, kernel or disk error costs no transfer. */
static int check(const char *path, struct xl_config *x, struct create_files *f)
{
    size_t tsize;
    char err[256], *text = file_read_whole("config", path, CREATE_FILE_MAX, &tsize);
    struct pvh_image img;
    const char *why = "";

    if (!text)
        return WISP_EXIT_USAGE;
    text = realloc(text, tsize + 1);
    text[tsize] = '\0';
    if (xlcfg_parse(text, x, err, sizeof(err))) {
        fprintf(stderr, "wisp: %s: %s\n", path, err);
        free(text);
        return WISP_EXIT_USAGE;
    }
    free(text);
    if (file_read_hashed("kernel", x->kernel, CREATE_FILE_MAX, &f->kernel))
        return WISP_EXIT_USAGE;
    if (pvh_elf_parse(f->kernel.data, f->kernel.size, &img, &why)) {
        fprintf(stderr, "wisp: kernel %s: not a PVH kernel: %s\n", x->kernel, why);
        return WISP_EXIT_USAGE;
    }
    if (x->ramdisk[0] && file_read_hashed("ramdisk", x->ramdisk, CREATE_FILE_MAX, &f->ramdisk))
        return WISP_EXIT_USAGE;
    for (unsigned i = 0; i < x->nr_disks; i++)
        if (file_read_hashed("disk", x->disks[i].target, CREATE_FILE_MAX, &f->disks[i]))
            return WISP_EXIT_USAGE;
    return 0;
}

static int put_files(struct client_conn *c, const struct xl_config *x, struct create_files *f)
{
    struct inbox *ib = inbox_open();
    int rc = put_file(c, ib, f->kernel.data, f->kernel.size, f->kernel.digest);

    if (!rc && f->ramdisk.data)
        rc = put_file(c, ib, f->ramdisk.data, f->ramdisk.size, f->ramdisk.digest);
    for (unsigned i = 0; !rc && i < x->nr_disks; i++)
        rc = put_file(c, ib, f->disks[i].data, f->disks[i].size, f->disks[i].digest);
    inbox_close(ib);
    return rc;
}

int cmd_create(int argc, char **argv)
{
    static struct xl_config x;
    static struct create_files f;
    struct client_conn *c;
    int rc;

    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: wisp create FILE   (an xl.cfg file: docs/toolstack.md lists its keys)\n",
              argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : WISP_EXIT_USAGE;
    }
    rc = check(argv[1], &x, &f);
    if (!rc)
        rc = client_open(&c);
    if (!rc) {
        /* Named by digest, the files are usually with the agent already (an earlier create). */
        bool missing = false;

        rc = send_create(c, &x, &f, &missing);
        if (!rc && missing && !(rc = put_files(c, &x, &f)))
            rc = send_create(c, &x, &f, NULL);
        client_close(c);
    }
    free(f.kernel.data);
    free(f.ramdisk.data);
    for (unsigned i = 0; i < x.nr_disks; i++)
        free(f.disks[i].data);
    return rc;
}
