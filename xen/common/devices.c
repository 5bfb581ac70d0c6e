/* devices.c (hypervisor): the disks and vifs of the boot configuration (WISP_CTL_device_list), and each disk's image mapped into the backend domain as legacy pmem (docs/architecture.md). */
#include "env.h"
#include "devices.h"
#include "domain.h"
#include "errno.h"
#include "mm.h"
#include "printk.h"

#define MAX_DEVICES (BOOTCFG_MAX_DOMAINS * (BOOTCFG_MAX_DISKS + BOOTCFG_MAX_VIFS))
/* Regions start at 4 GiB or the first 1 GiB boundary above the backend's RAM. */
#define PMEM_FLOOR (4ull << 30)

/*
 * Filled by devices_init before any domain exists, then read-only; pad_* change
 * when the backend is built and freed (one vCPU in the hypervisor at a time).
 */
static struct wisp_ctl_device devices[MAX_DEVICES];
static uint32_t nr_devices;
static struct {
    uint64_t image_hpa;             /* the module's first frame */
    uint64_t pad_hpa, pad_bytes;    /* zeroed frames after the image; 0: none allocated */
} pmem[MAX_DEVICES];

const struct wisp_ctl_device *device_at(uint32_t i)
{
    return i < nr_devices ? &devices[i] : NULL;
}

uint32_t devices_count(void)
{
    return nr_devices;
}

/* Zeroes the image's last page after its end, unless another module lies there. */
static void clear_image_tail(const struct boot_info *bi, const struct boot_module *m)
{
    uint64_t tail = round_up(m->end, PAGE_SIZE);

    for (unsigned i = 0; i < bi->nr_modules; i++)
        if (&bi->modules[i] != m && bi->modules[i].start < tail && bi->modules[i].end > m->end)
            return;
    memset(phys_to_virt(m->end), 0, tail - m->end);
}

static int add_disk(const struct boot_config *bc, const struct boot_info *bi, unsigned domid,
                    unsigned backend, unsigned nr, uint64_t *gpa)
{
    const struct domain_config *dc = &bc->domains[domid - 1];
    const struct disk_config *disk = &dc->disks[nr];
    const struct boot_module *m = boot_find_module(bi, disk->target);
    struct wisp_ctl_device *dev = &devices[nr_devices];

    if (!m || m->start % PAGE_SIZE || m->end == m->start) {
        log_error("d%u (%s): disk %s: %s module named '%s'", domid, dc->name, disk->vdev,
                  !m ? "no" : m->end == m->start ? "an empty" : "a page-misaligned", disk->target);
        return m ? -EINVAL : -ENOENT;
    }
    clear_image_tail(bi, m);
    *dev = (struct wisp_ctl_device){
        .frontend = (uint16_t)domid, .backend = (uint16_t)backend, .kind = WISP_DEV_DISK,
        .readonly = disk->readonly, .handle = (uint16_t)nr, .devid = disk->devid,
        .pmem_gpa = *gpa, .pmem_bytes = round_up(m->end - m->start, PAGE_SIZE_2M),
        .image_bytes = m->end - m->start,
    };
    memcpy(dev->vdev, disk->vdev, sizeof(dev->vdev));
    memcpy(dev->target, disk->target, sizeof(dev->target));
    pmem[nr_devices++].image_hpa = m->start;
    *gpa += dev->pmem_bytes;
    return 0;
}

int devices_init(const struct boot_config *bc, const struct boot_info *bi)
{
    unsigned backend = 0;
    uint64_t gpa;
    int rc;

    for (unsigned i = 0; i < bc->nr_domains; i++)
        if (bc->domains[i].roles & WISP_ROLE_BACKEND)
            backend = i + 1;    /* one, when there are devices (bootconfig.c) */
    gpa = backend ? (uint64_t)bc->domains[backend - 1].memory_mib << 20 : 0;
    gpa = gpa < PMEM_FLOOR ? PMEM_FLOOR : round_up(gpa, PAGE_SIZE_1G);
    for (unsigned id = 1; id <= bc->nr_domains; id++) {
        const struct domain_config *dc = &bc->domains[id - 1];

        for (unsigned j = 0; j < dc->nr_disks; j++)
            if ((rc = add_disk(bc, bi, id, backend, j, &gpa)))
                return rc;
        for (unsigned j = 0; j < dc->nr_vifs; j++) {
            devices[nr_devices] = (struct wisp_ctl_device){
                .frontend = (uint16_t)id, .backend = (uint16_t)backend, .kind = WISP_DEV_VIF,
                .handle = dc->vifs[j].handle, .devid = dc->vifs[j].handle,
            };
            memcpy(devices[nr_devices++].mac, dc->vifs[j].mac, 6);
        }
    }
    return 0;
}

static bool backs_disk(const struct domain *d, uint32_t i)
{
    return devices[i].kind == WISP_DEV_DISK && devices[i].backend == d->id;
}

unsigned devices_pmem_ranges(const struct domain *d, struct pvh_reserved_range *out)
{
    unsigned n = 0;

    for (uint32_t i = 0; i < nr_devices; i++)
        if (backs_disk(d, i))
            out[n++] = (struct pvh_reserved_range){ devices[i].pmem_gpa, devices[i].pmem_bytes,
                                                    MEMMAP_TYPE_PMEM_LEGACY };
    return n;
}

/*
 * The image's own frames, then zeroed frames up to the 2 MiB multiple; read
 * and write, never execute. A read-only disk is mapped writable too: blkback
 * enforces ro towards the guest, and the image is the backend's to serve.
 */
int devices_map_pmem(struct domain *d)
{
    for (uint32_t i = 0; i < nr_devices; i++)
        d->pmem_bytes += backs_disk(d, i) ? devices[i].pmem_bytes : 0;   /* p2m table budget */
    for (uint32_t i = 0; i < nr_devices; i++) {
        const struct wisp_ctl_device *dev = &devices[i];
        uint64_t image = round_up(dev->image_bytes, PAGE_SIZE);

        if (!backs_disk(d, i))
            continue;
        if (p2m_map(&d->p2m, dev->pmem_gpa, pmem[i].image_hpa, image, P2M_READ | P2M_WRITE))
            return -ENOMEM;
        if (image < dev->pmem_bytes) {
            pmem[i].pad_hpa = frames_alloc(dev->pmem_bytes - image, PAGE_SIZE);
            if (!pmem[i].pad_hpa)
                return -ENOMEM;
            pmem[i].pad_bytes = dev->pmem_bytes - image;
            if (p2m_map(&d->p2m, dev->pmem_gpa + image, pmem[i].pad_hpa, pmem[i].pad_bytes,
                        P2M_READ | P2M_WRITE))
                return -ENOMEM;
        }
        d->max_mapped_gfn = (dev->pmem_gpa + dev->pmem_bytes) / PAGE_SIZE - 1;
        log_info("d%u (%s): pmem 0x%lx-0x%lx: d%u %s, image '%s' (%lu bytes)", d->id, d->name,
                 dev->pmem_gpa, dev->pmem_gpa + dev->pmem_bytes, dev->frontend, dev->vdev,
                 dev->target, dev->image_bytes);
    }
    return 0;
}

void devices_free_pmem(const struct domain *d)
{
    for (uint32_t i = 0; i < nr_devices; i++) {
        if (backs_disk(d, i) && pmem[i].pad_hpa)
            frames_free(pmem[i].pad_hpa, pmem[i].pad_bytes);
        if (backs_disk(d, i))
            pmem[i].pad_hpa = pmem[i].pad_bytes = 0;
    }
}
