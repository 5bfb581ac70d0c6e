/* grant_table.h (hypervisor): STUB of the grant helper's interface (branch `gnttab`); on merge take theirs. */
#ifndef WISP_GRANT_TABLE_H
#define WISP_GRANT_TABLE_H

#include "env.h"
#include "xen/xen.h"

/*
 * MERGE(gnttab): these prototypes are the shared contract (PREAMBLE). Until
 * grant_table.c lands, grant_table_stub.c defines them weakly: no grant
 * table, nothing is ever mapped, seeding succeeds without effect.
 */
struct domain;
int  gnttab_domain_init(struct domain *d);      /* after the config is copied in */
int  gnttab_seed_entry(struct domain *d, unsigned ref, domid_t grantee, uint64_t gfn);
void gnttab_release_mappings(struct domain *d); /* d is dying: undo every mapping d holds */
bool gnttab_foreign_mapped(const struct domain *d); /* others still map d's pages */
void gnttab_domain_destroy(struct domain *d);   /* free d's grant state (last step) */

#endif
