/* domain_build.h (hypervisor): constructing the boot-time domains the boot configuration names. */
#ifndef WISP_DOMAIN_BUILD_H
#define WISP_DOMAIN_BUILD_H

#include "bootconfig.h"
#include "bootinfo.h"

/* 0, or a negative errno after logging why; nothing is left allocated on failure. */
int __must_check domain_build(const struct domain_config *cfg, const struct boot_info *bi);

#endif
