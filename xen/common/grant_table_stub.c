/* grant_table_stub.c (hypervisor): MERGE(gnttab) weak stand-ins for the grant helper's functions; delete once grant_table.c is merged. */
#include "grant_table.h"

__attribute__((weak)) int gnttab_domain_init(struct domain *d) { (void)d; return 0; }
__attribute__((weak)) int gnttab_seed_entry(struct domain *d, unsigned ref, domid_t grantee,
                                            uint64_t gfn)
{
    (void)d, (void)ref, (void)grantee, (void)gfn;
    return 0;
}
__attribute__((weak)) void gnttab_release_mappings(struct domain *d) { (void)d; }
__attribute__((weak)) bool gnttab_foreign_mapped(const struct domain *d) { (void)d; return false; }
__attribute__((weak)) void gnttab_domain_destroy(struct domain *d) { (void)d; }
