/* create.h (service-domain tool): wisp-agent makes domains at run time (`wisp create`): files sent over the host channel, then pvh_build_domain. */
#ifndef WISP_AGENT_CREATE_H
#define WISP_AGENT_CREATE_H

#include <stdint.h>

#include "wire.h"
#include "wisp/control.h"

/*
 * `put`: one chunk of a file (file = its SHA-256 in hex, size, offset, data as
 * base64); the last chunk is checked against the name (-EIO, nothing kept). 0
 * or a negative errno.
 */
int create_put(const struct wire_msg *m);

/*
 * `take`: as `put`, but the chunk (length bytes, at most the inbox's 16 MiB) is
 * in the inbox, where the host wrote it; -ENODEV when there is no inbox (Bochs).
 * A chunk that cannot be read drops the file.
 */
int create_take(const struct wire_msg *m);

/*
 * Takes every file in dir named by a SHA-256 (the host's `wisp up --preload`
 * put them in this domain's initramfs) into the file cache, mapped in place;
 * the name is trusted, as the initramfs itself is.
 */
void create_preload(const char *dir);

/* `have`: 0 when the file (file = SHA-256, size) is here whole already, else -ENOENT. */
int create_have(const struct wire_msg *m);

/*
 * `create`: builds a domain from the request's fields (name, kernel and
 * ramdisk naming files put before, cmdline, memory, vcpus, weight, cap, cpus,
 * on_poweroff/on_reboot/on_crash = destroy|restart|preserve) and unpauses it. Its id,
 * or a negative errno with *why. The files stay for the next create.
 */
long create_domain(int privcmd, const struct wire_msg *m, const char **why);

/*
 * A domain this agent created has shut down: what its on_* says is done
 * (destroy it, keep it, or destroy it to restart it: at most MAX_RESTARTS
 * times a minute, its run-time disks' contents kept).
 */
void create_on_shutdown(int privcmd, const struct wisp_domain_info *d);

/* It has gone: forget it (its id may come back for another domain), or build it again for a restart. */
void create_forget(int privcmd, uint32_t domid);

/*
 * Which of the agent's builds domid is now (0: none of its own). Ids are reused,
 * and a domain made again with the same id and name may end before anyone looks:
 * this tells it from the one before.
 */
unsigned long create_build_of(uint32_t domid);

#endif
